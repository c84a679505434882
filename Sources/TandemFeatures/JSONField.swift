/// A value of a top-level JSON field that the ETL asked for.
public enum JSONField: Sendable, Equatable {
    case string(String)
    /// An integer literal (no fraction, no exponent) that fits in 64 bits.
    case integer(Int64)
    /// An integer literal too large for 64 bits; `negative` tells its sign.
    case hugeInteger(negative: Bool)
    /// A number with a fraction or an exponent.
    case fractional
    case bool(Bool)
    case null
    case object
    case array
}
