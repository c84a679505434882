public import TandemEnvironment

/// Jobs in words, as `tandem jobs` prints them.
public enum JobText {
    /// `jobs list`: one line a job in flight, saying who submitted it and whether that process is gone.
    public static func inFlight(_ jobs: [JobInFlight], environment: String) -> [String] {
        guard !jobs.isEmpty else { return ["no jobs in flight for \(environment)"] }
        return jobs.map { l in
            var text = "\(l.id)  \(l.backend)  \(l.name)" + (l.state.map { "  \($0)" } ?? "")
            if let at = l.submittedAt, let owner = l.owner {
                text += "  submitted \(at)  by pid \(owner)"
                if l.ownerAlive == false { text += " (gone: `tandem jobs recover` stops it)" }
            } else {
                text += "  (in Slurm's queue, not in this checkout's journal: submitted elsewhere)"
            }
            return text
        }
    }
}
