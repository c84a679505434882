import Foundation
import TandemEnvironment
import TandemProfiles

extension StageContext {
    /// The context of the environment `--env` (or `environment`, else `TANDEM_ENV`) names, in the repository
    /// `--project` (else `TANDEM_PROJECT`, else the nearest parent folder with `environments/`) names.
    public static func load(_ options: CommonOptions, environment name: String? = nil) throws -> StageContext {
        try load(project: options.project, environment: try name ?? options.environmentName())
    }

    /// Every profile of the repository the options name.
    public static func loadProfiles(_ options: CommonOptions) throws -> ProfileSet {
        try loadProfiles(project: options.project)
    }
}
