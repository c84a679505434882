import Foundation
public import TandemCore

/// Runs whose process was killed (`kill -9`, a lost machine) are left `RUNNING` by the process itself; this finds
/// them and marks them `FAILED`.
///
/// Every run Tandem starts records its owner in its tags: the host, pid and pid start time of the process
/// training it (`ProcessIdentity`). A `RUNNING` run is abandoned when its owner ran on this host and no process
/// with that pid and start time runs any more (a reused pid has another start time). Runs owned by another host,
/// and runs recorded without an owner (by earlier versions), are left alone: this host cannot tell whether they
/// still run. `tandem train` recovers before it starts a run; `tandem jobs recover` does on demand.
public enum RunRecovery {
    /// The tag holding the owner's host name.
    public static let hostTag = "tandem.owner_host"
    /// The tag holding the owner's pid.
    public static let pidTag = "tandem.owner_pid"
    /// The tag holding the owner's start time (clock ticks since boot).
    public static let startTag = "tandem.owner_start"
    /// The tag set on a run marked failed because its process was gone, saying why.
    public static let failureTag = "tandem.failure"

    /// The owner tags of a run started by `identity` (this process by default).
    public static func ownerTags(_ identity: ProcessIdentity = .current) -> [String: String] {
        [hostTag: identity.host, pidTag: String(identity.pid), startTag: String(identity.start)]
    }

    /// The recorded owner of a run, if it has one.
    public static func owner(of run: RunRecord) -> ProcessIdentity? {
        guard let host = run.tags[hostTag], let pid = run.tags[pidTag].flatMap(Int32.init),
            let start = run.tags[startTag].flatMap(UInt64.init)
        else { return nil }
        return ProcessIdentity(host: host, pid: pid, start: start)
    }

    /// Marks `FAILED` (killed) every `RUNNING` run among the registry's latest `limit` whose owner is gone from
    /// this host, and returns them as updated.
    public static func recover(_ registry: any ModelRegistry, limit: Int = 10_000) throws -> [RunRecord] {
        var recovered: [RunRecord] = []
        for var run in try registry.runs(experiment: nil, limit: limit) where run.status == "RUNNING" {
            guard let owner = owner(of: run), owner.isAlive == false else { continue }
            run.status = "FAILED"
            run.endedAt = Timestamp.nowMillis()
            run.tags[failureTag] = "killed: process \(owner.pid) on \(owner.host) ended without finishing the run"
            try registry.updateRun(run)
            recovered.append(run)
        }
        return recovered
    }
}
