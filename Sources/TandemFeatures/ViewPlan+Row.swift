import Foundation

/// The per-row interpreter of a view's program: straight-line instructions over registers of Float64, with the
/// defined results of docs/features.md ("Defined results"): x / 0 = 0, ln(x ≤ 0) = 0, log1p(x ≤ −1) = 0,
/// sqrt(x < 0) = 0, an out-of-range one_hot index gives zeros, and a column whose value is not finite is 0.
extension ViewPlan {
    /// Computes one row of the view for the query and the video at `videoIndex`, at time `time` (the judgment's
    /// `judged_at` for gold rows, the request's time at inference).
    public func computeRow(
        query q: Query, videoIndex: Int, at time: DataTimestamp, into row: UnsafeMutableBufferPointer<Float>
    ) {
        let program = self.program
        let video = videos[videoIndex]
        let lists = videoLists[videoIndex]
        let tables = videoTables[videoIndex]
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, program.registers)) { r in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, program.vectorWidth)) { v in
                func list(_ slot: ViewProgram.TokenSlot) -> [Int32] {
                    switch slot {
                    case .query(let i): q.lists[i]
                    case .video(let i): lists[i]
                    }
                }
                func table(_ slot: ViewProgram.TokenSlot) -> [TokenCount] {
                    switch slot {
                    case .query(let i): q.tables[i]
                    case .video(let i): tables[i]
                    }
                }
                func text(_ column: ViewProgram.TextColumn) -> String {
                    switch column {
                    case .query: q.normalized
                    case .title: video.title
                    case .description: video.description
                    case .channel: video.channel
                    case .url: video.url
                    }
                }
                func seconds(_ source: ViewProgram.TimeSource) -> Int64 {
                    source == .published ? video.published.seconds : time.seconds
                }
                for instruction in program.instructions {
                    switch instruction {
                    case .constant(let dst, let value): r[dst] = value
                    case .intColumn(let dst, let column):
                        r[dst] = Double(column == .views ? video.views : video.durationS)
                    case .count(let dst, let slot): r[dst] = Double(list(slot).count)
                    case .length(let dst, let column):
                        r[dst] = Double(column == .query ? q.codePoints : text(column).unicodeScalars.count)
                    case .hash(let dst, let column, let buckets):
                        r[dst] = Double(FNV1a.hash32(text(column).utf8) % UInt32(buckets))
                    case .overlap(let dst, let a, let b):
                        let within = table(b)
                        var n = 0
                        for t in list(a) where Self.count(of: t, in: within) != nil { n += 1 }
                        r[dst] = Double(n)
                    case .phraseIn(let dst, let a, let b):
                        r[dst] = Self.containsPhrase(list(a), in: list(b)) ? 1 : 0
                    case .bm25(let dst, let query, let document, let k1, let b):
                        let recipe = program.bm25Documents[document]
                        let (idf, average) = corpus[document]
                        let within = tables[recipe]
                        let length = Double(lists[recipe].count)
                        var sum = 0.0
                        for w in list(query) where Int(w) < idf.count {
                            if let tf = Self.count(of: w, in: within) {
                                let f = Double(tf)
                                sum += idf[Int(w)] * f * (k1 + 1) / (f + k1 * (1 - b + b * length / average))
                            }
                        }
                        r[dst] = sum
                    case .days(let dst, let from, let to):
                        r[dst] = Double(seconds(to) - seconds(from)) / 86_400
                    case .unary(let dst, let op, let a):
                        let x = r[a]
                        switch op {
                        case .negate: r[dst] = -x
                        case .not: r[dst] = x == 0 ? 1 : 0
                        case .log1p: r[dst] = x > -1 ? Foundation.log1p(x) : 0
                        case .ln: r[dst] = x > 0 ? Foundation.log(x) : 0
                        case .sqrt: r[dst] = x >= 0 ? x.squareRoot() : 0
                        case .abs: r[dst] = Swift.abs(x)
                        }
                    case .binary(let dst, let op, let a, let b):
                        r[dst] = Self.apply(op, r[a], r[b])
                    case .select(let dst, let c, let a, let b): r[dst] = r[c] != 0 ? r[a] : r[b]
                    case .clip(let dst, let x, let low, let high): r[dst] = Swift.min(Swift.max(r[x], r[low]), r[high])
                    case .bucket(let dst, let a, let start, let count):
                        let x = r[a]
                        var n = 0
                        for k in start..<(start + count) where program.edges[k] <= x { n += 1 }
                        r[dst] = Double(n)
                    case .oneHot(let dst, let a, let count):
                        for k in 0..<count { v[dst + k] = 0 }
                        let i = r[a]
                        if i >= 0, i < Double(count) { v[dst + Int(i)] = 1 }
                    case .crosses(let dst, let a, let b, let count):
                        for k in 0..<count { v[dst + k] = 0 }
                        let right = list(b)
                        for x in list(a) {
                            var prefix: UInt32 = 2_166_136_261
                            for byte in bytes(x, q) {
                                prefix ^= UInt32(byte)
                                prefix = prefix &* 16_777_619
                            }
                            prefix ^= 0x20
                            prefix = prefix &* 16_777_619
                            for y in right {
                                var h = prefix
                                for byte in bytes(y, q) {
                                    h ^= UInt32(byte)
                                    h = h &* 16_777_619
                                }
                                v[dst + Int(h % UInt32(count))] += 1
                            }
                        }
                    case .output(let column, let a):
                        let x = r[a]
                        row[column] = x.isFinite ? Float(x) : 0
                    case .outputVector(let column, let from, let count):
                        for k in 0..<count {
                            let x = v[from + k]
                            row[column + k] = x.isFinite ? Float(x) : 0
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func bytes(_ id: Int32, _ q: Query) -> [UInt8] {
        Int(id) < tokenBytes.count ? tokenBytes[Int(id)] : q.extraBytes[Int(id) - tokenBytes.count]
    }

    @inline(__always)
    static func apply(_ op: ViewProgram.Binary, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: b == 0 ? 0 : a / b
        case .less: a < b ? 1 : 0
        case .lessOrEqual: a <= b ? 1 : 0
        case .greater: a > b ? 1 : 0
        case .greaterOrEqual: a >= b ? 1 : 0
        case .equal: a == b ? 1 : 0
        case .notEqual: a != b ? 1 : 0
        case .and: a != 0 && b != 0 ? 1 : 0
        case .or: a != 0 || b != 0 ? 1 : 0
        case .min: Swift.min(a, b)
        case .max: Swift.max(a, b)
        }
    }

    @inline(__always)
    static func count(of token: Int32, in counts: [TokenCount]) -> Int32? {
        var lo = 0
        var hi = counts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if counts[mid].id < token { lo = mid + 1 } else { hi = mid }
        }
        return lo < counts.count && counts[lo].id == token ? counts[lo].count : nil
    }

    /// `phrase_in(a, b)`: the tokens of `a` appear in order and contiguous in `b`; an empty `a` is in an empty
    /// `b` only (docs/data-contract.md, `exact_phrase_title`).
    static func containsPhrase(_ phrase: [Int32], in title: [Int32]) -> Bool {
        if phrase.isEmpty { return title.isEmpty }
        if phrase.count > title.count { return false }
        for start in 0...(title.count - phrase.count) {
            var match = true
            for k in 0..<phrase.count where title[start + k] != phrase[k] {
                match = false
                break
            }
            if match { return true }
        }
        return false
    }
}
