import Foundation

/// The forms a video's URL and a query take in the raw files.
extension FixtureGenerator {
    /// One of the URL forms a video is referenced by.
    func urlVariant(_ id: String, rng: inout SplitMix64) -> String {
        let scheme = rng.pick(["https", "http", "HTTPS", "Https"])
        let host = rng.pick(["www.vid.example", "vid.example", "m.vid.example", "WWW.Vid.Example", "M.VID.EXAMPLE"])
        let tracking = rng.chance(0.3) ? rng.pick(FixtureVocabulary.trackingParameters) : nil
        var url: String
        if rng.chance(0.25) {
            url = "\(scheme)://vid.example/\(id)" + (rng.chance(0.3) ? "/" : "")
            if let tracking { url += "?" + tracking }
        } else {
            let path = rng.chance(0.15) ? "/watch/" : "/watch"
            if let tracking {
                url =
                    rng.chance(0.5)
                    ? "\(scheme)://\(host)\(path)?\(tracking)&v=\(id)" : "\(scheme)://\(host)\(path)?v=\(id)&\(tracking)"
            } else {
                url = "\(scheme)://\(host)\(path)?v=\(id)"
            }
        }
        if rng.chance(0.05) { url += "#t=\(rng.below(600))s" }
        if rng.chance(0.03) { url = " " + url + "\t" }
        return url
    }

    /// One of the surface forms a query is typed in.
    func surface(_ query: String, rng: inout SplitMix64) -> String {
        var q = query
        switch rng.below(10) {
        case 0: q = q.uppercased()
        case 1:
            q = String(
                String.UnicodeScalarView(
                    q.unicodeScalars.map { s in
                        (s.value >= 0x21 && s.value <= 0x7E) ? (Unicode.Scalar(s.value + 0xFEE0) ?? s) : s
                    }))
        case 2: q = q.decomposedStringWithCanonicalMapping
        case 3: q = q.replacingOccurrences(of: " ", with: rng.pick(["\u{00A0}", "\u{3000}", "\u{2009}", "\t", "  "]))
        case 4: q = rng.pick([" ", "\t", "\u{00A0}"]) + q + rng.pick(["  ", "\t", "\u{3000}"])
        case 5: q = q.prefix(1).uppercased() + q.dropFirst()
        default: break
        }
        return q
    }
}
