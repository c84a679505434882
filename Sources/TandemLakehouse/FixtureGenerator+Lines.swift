import Foundation
import TandemFeatures

/// The lines of videos.jsonl and judgments.jsonl, well-formed and malformed.
extension FixtureGenerator {
    func writeVideo(_ v: Video, url: String, views: Int, observedAt: Int64? = nil, into out: inout JSONText) {
        out.raw("{\"url\": "); out.string(url)
        out.raw(", \"title\": "); out.string(v.title)
        out.raw(", \"description\": "); out.string(v.description)
        out.raw(", \"channel\": "); out.string(v.channel)
        out.raw(", \"duration_s\": "); out.integer(v.duration)
        out.raw(", \"views\": "); out.integer(views)
        out.raw(", \"published\": "); out.string(DataTimestamp(seconds: v.published).silverText)
        if let observedAt { out.raw(", \"observed_at\": "); out.string(DataTimestamp(seconds: observedAt).silverText) }
        out.raw("}"); out.newline()
    }

    func writeJudgment(
        _ query: String, url: String, label: Int, judgedAt: Int64, extra: Bool, rng: inout SplitMix64,
        into out: inout JSONText
    ) {
        out.raw("{\"query\": "); out.string(query)
        out.raw(", \"video_url\": "); out.string(url)
        out.raw(", \"label\": "); out.integer(label)
        out.raw(", \"judged_at\": ")
        var time = DataTimestamp(seconds: judgedAt).silverText
        if rng.chance(0.1) { time = String(time.dropLast()) + ".\(rng.below(1000))Z" }
        out.string(time)
        if extra {
            out.raw(", \"session\": "); out.string("s-\(rng.below(1_000_000))")
            out.verbatim(", \"judge\": {\"id\": \(rng.below(500)), \"pool\": [\"a\", \"b\"]}")
        }
        out.raw("}"); out.newline()
    }

    func writeMalformedJudgment(query: String, video: Video, rng: inout SplitMix64, into out: inout JSONText) {
        let url = "https://www.vid.example/watch?v=\(video.id)"
        let good = "{\"query\": \"\(query)\", \"video_url\": \"\(url)\", \"label\": 2, \"judged_at\": \"2025-03-04T05:06:07Z\"}"
        let variants: [String] = [
            String(good.dropLast(9)),  // truncated
            good.replacingOccurrences(of: "}", with: ",}"),  // trailing comma
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": NaN"),
            good.replacingOccurrences(of: "\"", with: "'"),  // single quotes
            good + " x",  // trailing garbage
            "",  // blank line
            "[1, 2, 3]",  // not an object
            good.replacingOccurrences(of: ", \"label\": 2", with: ""),  // missing label
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": \"2\""),
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": 2.0"),
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": null"),
            good.replacingOccurrences(of: "2025-03-04T05:06:07Z", with: "2025-02-30T05:06:07Z"),
            good.replacingOccurrences(of: "2025-03-04T05:06:07Z", with: "2025-03-04 05:06:07"),
            good.replacingOccurrences(of: "\"query\": \"\(query)\"", with: "\"query\": \" \\t \""),
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": \(rng.pick([4, -1, 7, 12]))"),
            good.replacingOccurrences(of: video.id, with: Self.makeID(&rng)),  // unknown video
            good.replacingOccurrences(of: "www.vid.example", with: "www.other.example"),
            good.replacingOccurrences(of: "www.vid.example", with: "vid.example:8080"),
        ]
        out.verbatim(rng.pick(variants))
        out.newline()
    }

    func writeMalformedVideo(_ v: Video, rng: inout SplitMix64, into out: inout JSONText) {
        var good = JSONText()
        writeVideo(v, url: "https://vid.example/\(v.id)", views: v.views, into: &good)
        let line = String(decoding: good.bytes.dropLast(), as: UTF8.self)
        let variants: [String] = [
            String(line.dropLast(5)),
            line.replacingOccurrences(of: "}", with: ",}"),
            line.replacingOccurrences(of: "\"views\": \(v.views)", with: "\"views\": -5"),
            line.replacingOccurrences(of: "\"duration_s\": \(v.duration)", with: "\"duration_s\": \"\(v.duration)\""),
            line.replacingOccurrences(of: "\"channel\": ", with: "\"chanel\": "),
            line.replacingOccurrences(of: "vid.example/\(v.id)", with: "vimeo.example/\(v.id)"),
            line.replacingOccurrences(of: "vid.example/\(v.id)", with: "vid.example/\(v.id.prefix(8))"),
        ]
        out.verbatim(rng.pick(variants))
        out.newline()
    }
}
