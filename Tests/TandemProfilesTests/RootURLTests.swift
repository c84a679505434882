import TandemCore
import Testing

@Suite("Root URLs")
struct RootURLTests {
    static let accepted: [(String, RootURL)] = [
        ("file://.tandem/test/features", .file(path: ".tandem/test/features")),
        ("file:///srv/tandem/prod", .file(path: "/srv/tandem/prod")),
        ("FILE://relative/x", .file(path: "relative/x")),
        ("local://", .local(options: [:])),
        ("local://?max_jobs=4", .local(options: ["max_jobs": "4"])),
        ("mlflow+http://127.0.0.1:5000", .mlflow(baseURL: "http://127.0.0.1:5000")),
        ("mlflow+https://mlflow.internal/prefix", .mlflow(baseURL: "https://mlflow.internal/prefix")),
        ("slurm://?partition=debug&time=10", .slurm(cluster: "", options: ["partition": "debug", "time": "10"])),
        ("slurm://hpc?conf=/etc/slurm/slurm.conf", .slurm(cluster: "hpc", options: ["conf": "/etc/slurm/slurm.conf"])),
        ("postgres://db.internal:5432/features", .postgres(url: "postgres://db.internal:5432/features")),
    ]

    @Test("accepted forms", arguments: accepted)
    func accepts(_ text: String, _ expected: RootURL) throws {
        #expect(try RootURL.parse(text) == expected)
    }

    static let refused: [(String, String)] = [
        ("/srv/tandem", "is not a root URL"),
        ("s3://bucket/x", "unknown root scheme 's3://'"),
        ("file://", "file:// needs a path"),
        ("file://x?y=1", "take no query"),
        ("local://otherhost", "takes no host"),
        ("local://?max_jobs=0", "max_jobs must be a whole number ≥ 1"),
        ("local://?jobs=2", "does not know option 'jobs'"),
        ("mlflow+http://", "needs a host"),
        ("mlflow+http://user:pw@host:5000", "carries credentials"),
        ("mlflow+http://host:abc", "port 'abc' is not a number"),
        ("slurm://?partiton=debug", "does not know option 'partiton'"),
        ("postgres://db.internal", "needs a host and a database"),
        ("postgres://u:p@db/x", "carries credentials"),
    ]

    @Test("refused forms say why", arguments: refused)
    func refuses(_ text: String, _ fragment: String) {
        do {
            let url = try RootURL.parse(text)
            Issue.record("\(text) was accepted as \(url)")
        } catch {
            #expect(error.description.contains(fragment), "\(text): \(error.description)")
        }
    }

    @Test("a parsed URL prints back to a form that parses to the same root", arguments: accepted.map(\.1))
    func roundTrip(_ url: RootURL) throws {
        #expect(try RootURL.parse(url.description) == url)
    }
}
