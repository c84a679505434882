/// The version every stage prints with `--version`.
public enum TandemVersion {
    public static let current = "0.1.0"
}
