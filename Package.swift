// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
        .executable(name: "tandem-env", targets: ["tandem-env"]),
        .executable(name: "tandem-etl", targets: ["tandem-etl"]),
        .executable(name: "tandem-features", targets: ["tandem-features"]),
        .executable(name: "tandem-fixtures", targets: ["tandem-fixtures"]),
        .executable(name: "tandem-train", targets: ["tandem-train"]),
        .executable(name: "tandem-runs", targets: ["tandem-runs"]),
        .executable(name: "tandem-evaluate", targets: ["tandem-evaluate"]),
        .executable(name: "tandem-notify", targets: ["tandem-notify"]),
        .executable(name: "tandem-promote", targets: ["tandem-promote"]),
        .executable(name: "tandem-local", targets: ["tandem-local"]),
        .executable(name: "tandem-models", targets: ["tandem-models"]),
        .executable(name: "tandem-jobs", targets: ["tandem-jobs"]),
        .executable(name: "tandem-bench", targets: ["tandem-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        /** libcurl from Debian's libcurl4-openssl-dev, with static inline wrappers for its variadic calls. */
        .systemLibrary(
            name: "TandemCLibcurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        /** OpenBLAS (CBLAS interface) from Debian's libopenblas-dev. */
        .systemLibrary(
            name: "TandemCOpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        /** libpq, PostgreSQL's client library, from Debian's libpq-dev: the PostgreSQL state backend's connection. */
        .systemLibrary(
            name: "TandemCLibpq",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        /** The scorer's dense kernel in C: batch-invariant by construction, AVX2+FMA or generic, chosen at run time. */
        .target(
            name: "TandemCKernels",
            // Optimised in debug builds too: the tests and `tandem local test` score through it. Contraction off, so
            // the compiler never fuses or reorders what the kernel spells out.
            cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]
        ),
        /** Values shared by every part: errors and exit codes, root URLs, digests, JSON output. */
        .target(
            name: "TandemCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        /** Environment profiles: strict YAML loading with located errors, `extends`, cross-profile checks. */
        .target(
            name: "TandemProfiles",
            dependencies: ["TandemCore", .product(name: "Yams", package: "Yams")]
        ),
        /** Storage roots: ownership stamps (runtime isolation), atomic files, SQLite databases. */
        .target(
            name: "TandemStorage",
            dependencies: [
                "TandemCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        /** Pure feature code: definitions, their computation (the one code path of gold and inference), text and URL
            canonicalisation, strict JSON, gold rows in memory. No files, no database. */
        .target(name: "TandemFeatures", dependencies: ["TandemCore"]),
        /** The medallion ETL (bronze, silver, gold) and the feature store. */
        .target(
            name: "TandemLakehouse",
            dependencies: [
                "TandemCore", "TandemFeatures", "TandemProfiles", "TandemStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        /** The trainer, models, metrics and scoring, with all dense math on OpenBLAS. */
        .target(
            name: "TandemLearning",
            dependencies: ["TandemCore", "TandemCOpenBLAS", "TandemCKernels", "TandemFeatures"]
        ),
        /** Model registries and run tracking: the protocol, its SQLite and MLflow implementations, the audit chain. */
        .target(
            name: "TandemRegistry",
            dependencies: ["TandemCore", "TandemStorage", "TandemHTTP", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        /** The drivers the stages share: training inputs (table → gold → split → signature), config → trainer settings,
            the training session (run tracked, artifact stored, version registered, lock file committed). */
        .target(
            name: "TandemPipeline",
            dependencies: [
                "TandemCore", "TandemProfiles", "TandemFeatures", "TandemLakehouse", "TandemLearning", "TandemRegistry",
                "TandemGit",
            ]
        ),
        /** Git working trees through the git command: commits, branches, lock files, ancestry. */
        .target(name: "TandemGit", dependencies: ["TandemCore"]),
        /** HTTP over libcurl: one transport, run off the cooperative thread pool. */
        .target(
            name: "TandemHTTP",
            dependencies: ["TandemCore", "TandemCLibcurl"]
        ),
        /** Webhooks: CI statuses and team notifications through a durable outbox, signed as Standard Webhooks. */
        .target(
            name: "TandemWebhooks",
            dependencies: [
                "TandemCore", "TandemProfiles", "TandemStorage", "TandemHTTP",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        /** The promotion engine: integration tests, champion/challenger, approvals, code and model promoted together. */
        .target(
            name: "TandemPromotion",
            dependencies: [
                "TandemCore", "TandemProfiles", "TandemStorage", "TandemFeatures", "TandemLakehouse", "TandemLearning",
                "TandemRegistry", "TandemGit", "TandemPipeline",
                "TandemWebhooks", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        /** The PostgreSQL state backend (`roots.state: postgres://…`): promotions, journal, locks and the outbox shared
            across runners, with versioned schema migrations, over libpq. */
        .target(
            name: "TandemPostgres",
            dependencies: ["TandemCore", "TandemCLibpq", "TandemPromotion", "TandemWebhooks"]
        ),
        /** Compute backends: stage jobs as local child processes or Slurm jobs (arrays for sweeps). */
        .target(name: "TandemCompute", dependencies: ["TandemCore"]),
        /** The umbrella `tandem`: resolution of `tandem STAGE` to an executable `tandem-STAGE` (table-tested), exec,
            the overview and shell completions. */
        .target(name: "TandemDispatch", dependencies: ["TandemCore"]),
        /** An environment as a stage sees it: its profile, and the one place where its roots become stores and
            backends (feature store, registry, compute), opened through the root guard; protection read from the
            production side; audit anchors in git. */
        .target(
            name: "TandemEnvironment",
            dependencies: [
                "TandemCore", "TandemProfiles", "TandemStorage", "TandemFeatures", "TandemLakehouse", "TandemLearning",
                "TandemRegistry",
                "TandemGit", "TandemHTTP", "TandemCompute", "TandemPipeline", "TandemPromotion", "TandemWebhooks",
                "TandemDispatch", "TandemPostgres",
            ]
        ),
        /** Terminal output: errors and notes on stderr, JSON documents, tables, the progress bar, the live training view, and in words promotions, sweeps, profiles, feature tables, models, evaluations, jobs and a registry's integrity. */
        .target(
            name: "TandemTerminal",
            dependencies: [
                "TandemCore", "TandemFeatures", "TandemLakehouse", "TandemLearning", "TandemProfiles", "TandemRegistry",
                "TandemPipeline", "TandemPromotion", "TandemWebhooks", "TandemEnvironment",
            ]
        ),
        /** The command-line interface of every stage (argument parsing, human and JSON output). */
        .target(
            name: "TandemCommands",
            dependencies: [
                "TandemTerminal", "TandemCore", "TandemProfiles", "TandemStorage", "TandemFeatures", "TandemLakehouse",
                "TandemLearning",
                "TandemRegistry", "TandemGit", "TandemHTTP", "TandemWebhooks", "TandemPromotion", "TandemCompute",
                "TandemPipeline", "TandemEnvironment",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /** In-memory backends (registry, transport, compute, promotion state, outbox, git) that tests and tools link; no Testing. */
        .target(
            name: "TandemTesting",
            dependencies: [
                "TandemCore", "TandemRegistry", "TandemHTTP", "TandemGit", "TandemWebhooks", "TandemPromotion", "TandemCompute",
            ]
        ),
        /** `tandem`: the umbrella command. */
        .executableTarget(name: "tandem", dependencies: ["TandemDispatch"]),
        /** `tandem-env`: list, show and check environment profiles. */
        .executableTarget(name: "tandem-env", dependencies: ["TandemCommands"]),
        /** `tandem-etl`: bronze → silver → gold, registers a feature table version. */
        .executableTarget(name: "tandem-etl", dependencies: ["TandemCommands"]),
        /** `tandem-features`: list, show and diff feature table versions; feature definitions; the quarantine. */
        .executableTarget(name: "tandem-features", dependencies: ["TandemCommands"]),
        /** `tandem-train`: trains (batch, interactive or sweep), tracks the run, registers the model version. */
        .executableTarget(name: "tandem-train", dependencies: ["TandemCommands"]),
        /** `tandem-evaluate`: the inference pipeline and offline evaluation of model versions. */
        .executableTarget(name: "tandem-evaluate", dependencies: ["TandemCommands"]),
        /** `tandem-promote`: start, advance, status, list, approve, reject, recover, rollback. */
        .executableTarget(name: "tandem-promote", dependencies: ["TandemCommands"]),
        /** `tandem-local`: the test environment end to end on this machine (`tandem local test`). */
        .executableTarget(name: "tandem-local", dependencies: ["TandemCommands"]),
        /** `tandem-notify`: delivers the outbox, lists undelivered messages, sends a test event. */
        .executableTarget(name: "tandem-notify", dependencies: ["TandemCommands"]),
        /** `tandem-runs`: list, show and compare tracked runs. */
        .executableTarget(name: "tandem-runs", dependencies: ["TandemCommands"]),
        /** `tandem-models`: registered models, versions, aliases, lock-file verification, history. */
        .executableTarget(name: "tandem-models", dependencies: ["TandemCommands"]),
        /** `tandem-fixtures`: generates raw data of any size in the format of docs/data-contract.md. */
        .executableTarget(name: "tandem-fixtures", dependencies: ["TandemCommands"]),
        /** `tandem-jobs`: stages as jobs on `local://` or `slurm://`: submit, list, logs, cancel, recover, clean. */
        .executableTarget(name: "tandem-jobs", dependencies: ["TandemCommands"]),
        /** The benchmarks behind docs/benchmarks.md; only `tandem-bench` links them. */
        .target(
            name: "TandemBench",
            dependencies: [
                "TandemCommands", "TandemCore", "TandemStorage", "TandemFeatures", "TandemLakehouse",
                "TandemLearning",
                "TandemRegistry",
                "TandemHTTP", "TandemWebhooks", "TandemCompute", "TandemDispatch", "TandemPostgres", "TandemPromotion",
                "TandemPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /** `tandem-bench`: benchmarks whose figures go into docs/benchmarks.md. */
        .executableTarget(name: "tandem-bench", dependencies: ["TandemBench", "TandemCommands"]),

        .testTarget(name: "TandemProfilesTests", dependencies: ["TandemProfiles", "TandemStorage", "TandemTestSupport"]),
        .testTarget(
            name: "TandemLakehouseTests", dependencies: ["TandemLakehouse", "TandemFeatures", "TandemTestSupport"]),
        .testTarget(name: "TandemDispatchTests", dependencies: ["TandemDispatch"]),
        .testTarget(
            name: "TandemLearningTests", dependencies: ["TandemLearning", "TandemFeatures", "TandemLakehouse", "TandemStorage"]),
        .target(name: "TandemTestSupport", dependencies: ["TandemCore"], path: "Tests/TandemTestSupport"),
        /** The conformance suites, written once as checklists that take a factory; every backend's tests run them. */
        .target(
            name: "TandemConformance",
            dependencies: ["TandemCore", "TandemRegistry", "TandemHTTP", "TandemWebhooks", "TandemPromotion", "TandemTesting"],
            path: "Tests/TandemConformance"),
        .testTarget(
            name: "TandemComputeTests", dependencies: ["TandemCompute", "TandemCore", "TandemTestSupport", "TandemTesting"]),

        .testTarget(
            name: "TandemPromotionTests",
            dependencies: [
                "TandemPromotion", "TandemPipeline", "TandemLearning", "TandemProfiles", "TandemFeatures", "TandemLakehouse",
                "TandemRegistry", "TandemGit", "TandemWebhooks", "TandemStorage", "TandemTesting", "TandemConformance",
                "TandemPostgres", "TandemTestSupport", "TandemHTTP",
            ]),
        .testTarget(
            name: "TandemRegistryTests",
            dependencies: ["TandemRegistry", "TandemStorage", "TandemTestSupport", "TandemTesting", "TandemConformance"]),
        .testTarget(
            name: "TandemWebhooksTests",
            dependencies: [
                "TandemWebhooks", "TandemProfiles", "TandemHTTP", "TandemTestSupport", "TandemTesting", "TandemConformance",
            ]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TandemCore", "tandem", "tandem-env", "tandem-etl", "tandem-features", "tandem-fixtures", "tandem-train",
                "tandem-runs", "tandem-models", "tandem-evaluate", "tandem-notify",
                "tandem-promote", "tandem-local", "tandem-jobs", "TandemTestSupport", "TandemWebhooks", "TandemPostgres",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Settings that keep every target's imports and existentials honest (docs/architecture.md, "Modules").
for target in package.targets where target.type != .system && target.name != "TandemCKernels" {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility"),
            .enableUpcomingFeature("InternalImportsByDefault"),
        ]
}
