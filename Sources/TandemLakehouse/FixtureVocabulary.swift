import TandemFeatures

/// Topics and words of the fixture generator: a small, realistic video-search world.
enum FixtureVocabulary {
    struct Topic {
        var name: String
        var words: [String]
        var channels: [String]
    }

    static let topics: [Topic] = [
        Topic(
            name: "python",
            words: [
                "python", "pandas", "numpy", "django", "flask", "asyncio", "decorators", "generators", "pytest", "typing",
                "dataclasses", "virtualenv",
            ], channels: ["Python Academy", "Corey Codes", "PyData Talks"]),
        Topic(
            name: "swift",
            words: ["swift", "swiftui", "concurrency", "actors", "combine", "xcode", "generics", "protocols", "vapor", "async"],
            channels: ["Swift by Sundell", "Hacking Swift", "iOS Dev Weekly"]),
        Topic(
            name: "cooking",
            words: [
                "recipe", "pasta", "carbonara", "risotto", "sourdough", "bread", "crème", "brûlée", "jalapeño", "café", "kitchen",
                "knife",
            ], channels: ["Chef Anna", "Kitchen Basics", "Bon Appétit Live"]),
        Topic(
            name: "guitar",
            words: ["guitar", "chords", "fingerstyle", "blues", "solo", "strumming", "tuning", "acoustic", "riff", "scales"],
            channels: ["Guitar Lessons 365", "Marty Music", "Justin Guitar"]),
        Topic(
            name: "fitness",
            words: ["workout", "hiit", "yoga", "stretching", "abs", "squats", "deadlift", "cardio", "mobility", "pilates"],
            channels: ["Fit With Lea", "Athlean Zone", "Yoga Daily"]),
        Topic(
            name: "astronomy",
            words: [
                "telescope", "galaxy", "nebula", "eclipse", "mars", "jupiter", "saturn", "comet", "astrophotography", "stars",
            ], channels: ["Night Sky Guide", "Cosmos Lab", "AstroBackyard"]),
        Topic(
            name: "finance",
            words: ["investing", "stocks", "etf", "budget", "retirement", "inflation", "bonds", "dividends", "taxes", "savings"],
            channels: ["Money Matters", "The Plain Bagel", "Finanzfluss"]),
        Topic(
            name: "gardening",
            words: ["garden", "tomatoes", "compost", "pruning", "roses", "seeds", "soil", "succulents", "orchids", "lawn"],
            channels: ["Garden Answer", "Grow Veg", "Epic Gardening"]),
        Topic(
            name: "chess",
            words: [
                "chess", "openings", "sicilian", "endgame", "gambit", "tactics", "checkmate", "blitz", "grandmaster", "puzzles",
            ], channels: ["Chess Vibes", "GothamChess", "Daniel Naroditsky"]),
        Topic(
            name: "travel",
            words: ["travel", "japan", "kyoto", "lisbon", "iceland", "münchen", "backpacking", "itinerary", "budget", "hostel"],
            channels: ["Kara and Nate", "Lost LeBlanc", "Wolters World"]),
        Topic(
            name: "photography",
            words: [
                "photography", "lens", "aperture", "lightroom", "portrait", "landscape", "exposure", "mirrorless", "composition",
                "editing",
            ], channels: ["Peter McKinnon", "Mango Street", "Tony Northrup"]),
        Topic(
            name: "machine-learning",
            words: [
                "machine", "learning", "neural", "network", "transformer", "pytorch", "gradient", "descent", "regression", "bert",
                "embeddings",
            ], channels: ["3Blue1Brown", "StatQuest", "Two Minute Papers"]),
        Topic(
            name: "woodworking",
            words: [
                "woodworking", "dovetail", "joinery", "table", "router", "chisel", "plywood", "workbench", "finish", "sanding",
            ], channels: ["Steve Ramsey", "Paul Sellers", "Woodworking for Mere Mortals"]),
        Topic(
            name: "languages",
            words: [
                "spanish", "french", "german", "japanese", "grammar", "vocabulary", "pronunciation", "conjugation", "español",
                "français",
            ], channels: ["Easy Languages", "Dreaming Spanish", "Learn French with Alexa"]),
        Topic(
            name: "history",
            words: [
                "history", "rome", "empire", "medieval", "vikings", "egypt", "pharaoh", "revolution", "ww2", "byzantine",
                "Ελληνικά",
            ], channels: ["Kings and Generals", "Historia Civilis", "Oversimplified"]),
        Topic(
            name: "cars",
            words: ["car", "engine", "electric", "tesla", "maintenance", "oil", "brakes", "turbo", "review", "hybrid"],
            channels: ["Engineering Explained", "ChrisFix", "Doug DeMuro"]),
        Topic(
            name: "piano",
            words: ["piano", "sonata", "chopin", "nocturne", "scales", "sight", "reading", "jazz", "improvisation", "arpeggios"],
            channels: ["Pianote", "Josh Wright", "Piano TV"]),
        Topic(
            name: "gaming",
            words: ["minecraft", "speedrun", "zelda", "walkthrough", "boss", "elden", "ring", "strategy", "build", "mods"],
            channels: ["GameGrumps", "Speedrun Archive", "IGN Guides"]),
        Topic(
            name: "diy",
            words: ["drywall", "plumbing", "faucet", "tile", "paint", "wiring", "outlet", "shelf", "renovation", "caulk"],
            channels: ["Home RenoVision", "This Old House", "See Jane Drill"]),
        Topic(
            name: "math",
            words: [
                "calculus", "algebra", "integrals", "derivatives", "matrices", "probability", "statistics", "proof", "geometry",
                "topology",
            ], channels: ["Khan Academy", "Numberphile", "Professor Leonard"]),
    ]

    static let generic = [
        "how", "to", "the", "best", "guide", "tips", "for", "beginners", "advanced", "explained", "in", "easy", "top", "10",
        "mistakes", "ultimate", "review", "2025", "2026", "vs", "with", "my", "first", "day",
    ]

    /// Query intents and the words that signal them.
    enum Intent: CaseIterable {
        case plain, quick, full, news
        var words: [String] {
            switch self {
            case .plain: []
            case .quick: ["quick", "short", "in 5 minutes"]
            case .full: ["full course", "complete", "masterclass"]
            case .news: ["news", "latest", "2026"]
            }
        }
    }

    static let trackingParameters = [
        "utm_source=newsletter", "utm_medium=social&utm_campaign=fall", "si=Xk2_9aLq", "t=42", "feature=share", "list=PLx9Qa7Tz",
        "ab_channel=Tandem",
    ]
}
