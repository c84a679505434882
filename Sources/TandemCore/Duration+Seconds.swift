extension Duration {
    /// The duration in seconds, as a `Double` (for timings, rates and latencies).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
