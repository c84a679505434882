import Foundation
public import TandemCore
public import TandemFeatures
import TandemProfiles

/// The feature views a repository declares (`features/*.yaml`, docs/features.md), compiled; the built-in views
/// (relevance_v1) where the repository does not declare a view of that name.
public struct FeatureViewCatalogue: Sendable {
    /// The views, by name.
    public var views: [String: FeatureView]

    public init(views: [String: FeatureView]) { self.views = views }

    /// The view names, sorted.
    public var names: [String] { views.keys.sorted() }

    /// The built-in views alone.
    public static func builtin() throws -> FeatureViewCatalogue {
        var views: [String: FeatureView] = [:]
        for (file, text) in BuiltinFeatureViews.files {
            let view = try compile(text, file: file)
            views[view.name] = view
        }
        return FeatureViewCatalogue(views: views)
    }

    /// The built-in relevance_v1 (the view of every feature table registered before views were declared).
    public static func relevanceV1() throws -> FeatureView {
        try compile(BuiltinFeatureViews.relevanceV1, file: "features/relevance_v1.yaml")
    }

    /// Parses and compiles one declaration's text.
    public static func compile(_ text: String, file: String) throws -> FeatureView {
        try FeatureView.compile(try FeatureViewReader.parse(text, file: file))
    }

    /// The views of a working tree: every `ROOT/features/*.yaml`, then the built-in views it does not declare.
    public static func inWorkingTree(_ repositoryRoot: String) throws -> FeatureViewCatalogue {
        try load(texts: try FeatureViewReader.textsInWorkingTree(repositoryRoot))
    }

    /// The views of declarations keyed by their path (`features/NAME.yaml`), then the built-in views they do not
    /// declare; `label` prefixes each path in messages (`feature/x@1a2b3c4d5e6f:` for a commit's files). Each file
    /// must declare the view it is named after.
    public static func load(texts: [String: String], label: String = "") throws -> FeatureViewCatalogue {
        var catalogue = try builtin()
        var declared: Set<String> = []
        for (path, text) in texts.sorted(by: { $0.key < $1.key }) {
            let source = try FeatureViewReader.parse(text, file: label + path)
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            guard source.name == stem, declared.insert(source.name).inserted else {
                throw FeatureViewError(
                    location: source.nameLocation, problem: "\(label + path) declares view '\(source.name)'",
                    fix: "name the file after its view (features/\(source.name).yaml), one file per view")
            }
            catalogue.views[source.name] = try FeatureView.compile(source)
        }
        return catalogue
    }

    /// The view of that name, or an error that names the known ones.
    public func view(_ name: String) throws -> FeatureView {
        guard let view = views[name] else {
            let hint = didYouMean(name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw Failure(
                .invalidInput,
                "unknown feature view '\(name)'\(hint); this repository declares " + names.joined(separator: ", ")
                    + " (features/*.yaml, docs/features.md)")
        }
        return view
    }
}
