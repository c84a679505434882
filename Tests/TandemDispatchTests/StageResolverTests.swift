import Testing

@testable import TandemDispatch

@Suite("Umbrella resolution")
struct StageResolverTests {
    static let files: Set<String> = [
        "/opt/tandem/bin/tandem-etl", "/opt/tandem/bin/tandem-train", "/usr/local/bin/tandem-etl",
        "/usr/local/bin/tandem-foo", "/home/me/bin/tandem-foo", "/home/me/bin/tandem-bar",
    ]

    func resolver(path: String?) -> StageResolver {
        StageResolver(ownFolder: "/opt/tandem/bin", path: path, isExecutable: { Self.files.contains($0) })
    }

    static let table: [(String, String?, String?)] = [
        ("etl", "/usr/local/bin:/home/me/bin", "/opt/tandem/bin/tandem-etl"),  // beside tandem wins over PATH
        ("foo", "/usr/local/bin:/home/me/bin", "/usr/local/bin/tandem-foo"),  // first on PATH wins
        ("foo", "/home/me/bin:/usr/local/bin", "/home/me/bin/tandem-foo"),
        ("bar", "/usr/local/bin::/home/me/bin", "/home/me/bin/tandem-bar"),  // empty PATH entries are skipped
        ("train", nil, "/opt/tandem/bin/tandem-train"),
        ("bar", nil, nil),
        ("nope", "/usr/local/bin", nil),
    ]

    @Test("tandem STAGE finds tandem-STAGE beside tandem, then on PATH", arguments: table)
    func resolves(_ stage: String, _ path: String?, _ expected: String?) {
        switch resolver(path: path).resolve(stage) {
        case .success(let found): #expect(found == expected)
        case .failure(let failure):
            #expect(expected == nil, "\(failure)")
            if case .notFound(let s, let searched) = failure {
                #expect(s == stage)
                #expect(searched.first == "/opt/tandem/bin")
                #expect(failure.description.contains("unknown stage '\(stage)'"))
            }
        }
    }

    @Test("names that are not stage names are refused", arguments: ["", "../etc", "Etl", "-x", "etl/x", "a b", "etl-"])
    func invalidNames(_ name: String) {
        #expect(resolver(path: "/usr/local/bin").resolve(name) == .failure(.invalidName(name)))
    }

    @Test("listing finds built-in and third-party stages once each, the first place winning")
    func listing() {
        let listing: [String: [String]] = [
            "/opt/tandem/bin": ["tandem", "tandem-etl", "tandem-train", "README"],
            "/usr/local/bin": ["tandem-etl", "tandem-foo", "tandem-Bad"],
            "/home/me/bin": ["tandem-foo", "tandem-bar"],
        ]
        let stages = resolver(path: "/usr/local/bin:/home/me/bin").listStages { listing[$0] ?? [] }
        #expect(stages.map(\.stage) == ["bar", "etl", "foo", "train"])
        #expect(stages.first { $0.stage == "etl" }?.path == "/opt/tandem/bin/tandem-etl")
        #expect(stages.first { $0.stage == "foo" }?.path == "/usr/local/bin/tandem-foo")
    }
}
