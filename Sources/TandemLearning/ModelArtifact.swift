public import Foundation
public import TandemCore
public import TandemFeatures

/// The on-disk form of a trained model (`model.tandem`), documented in docs/model-artifact.md:
///
/// ```
/// bytes 0–7    "TANDEMM1"
/// bytes 8–15   manifest length N, unsigned 64-bit little-endian
/// N bytes      manifest, UTF-8 JSON (sorted keys)
/// the rest     float32 little-endian: parameters, then mean, then scale
/// ```
///
/// The manifest holds the model kind, layer sizes, signature, metrics, training settings, the number of floats
/// and their SHA-256 (`weights_sha256`). Loading checks the magic, the lengths and the weights' digest, and, when
/// the caller knows it (from the registry), the SHA-256 of the whole file; a truncated or altered artifact is refused.
public enum ModelArtifact {
    static let magic = Array("TANDEMM1".utf8)

    /// What the manifest records besides the weights.
    public struct Manifest: Codable, Sendable, Equatable {
        public var format = "tandem-model/1"
        public var kind: ModelKind
        public var sizes: [Int]
        public var signature: ModelSignature
        public var metrics: [String: Double]
        public var settings: TrainingSettings
        public var weightCount: Int
        public var weightsSHA256: String
        /// The BLAS library, kernel and threads it was trained with (absent in artifacts written before it was kept).
        public var numericEnvironment: NumericEnvironment?
        /// The feature views and statistics it computes its inputs with (absent in artifacts written before they
        /// were frozen into it).
        public var featureContract: FeatureContract?

        enum CodingKeys: String, CodingKey {
            case format, kind, sizes, signature, metrics, settings
            case weightCount = "weight_count"
            case weightsSHA256 = "weights_sha256"
            case numericEnvironment = "numeric_environment"
            case featureContract = "feature_contract"
        }
    }

    /// The artifact's bytes.
    public static func encode(
        _ model: RankerModel, metrics: [String: Double], settings: TrainingSettings, numeric: NumericEnvironment? = nil
    ) throws -> Data {
        let weights = model.parameters + model.mean + model.scale
        let weightBytes = weights.withUnsafeBytes { Data($0) }
        let manifest = Manifest(
            kind: model.kind, sizes: model.sizes, signature: model.signature, metrics: metrics, settings: settings,
            weightCount: weights.count, weightsSHA256: ContentDigest.sha256Hex(weightBytes), numericEnvironment: numeric,
            featureContract: model.featureContract)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(manifest)
        var data = Data(magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(weightBytes)
        return data
    }

    /// Reads and checks an artifact.
    public static func load(path: String, expectedDigest: String? = nil) throws -> (RankerModel, Manifest) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(.invalidInput, "\(path): no model artifact here; check the path or the registry")
        }
        if let expectedDigest, ContentDigest.sha256Hex(data) != expectedDigest {
            throw Failure(
                .invalidInput,
                "\(path): the artifact's SHA-256 does not match the registered digest \(expectedDigest.prefix(12))…; it was altered or truncated"
            )
        }
        return try decode(data, source: path)
    }

    /// Decodes and checks artifact bytes.
    public static func decode(_ data: Data, source: String) throws -> (RankerModel, Manifest) {
        let bytes = [UInt8](data)
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else {
            throw Failure(.invalidInput, "\(source): not a Tandem model artifact (bad magic)")
        }
        let length = bytes[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(bytes.count - 16) else {
            throw Failure(.invalidInput, "\(source): the artifact is truncated (manifest cut short)")
        }
        let manifestEnd = 16 + Int(length)
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes[16..<manifestEnd]))
        } catch {
            throw Failure(.invalidInput, "\(source): the artifact's manifest is unreadable (\(error))")
        }
        let weightBytes = Data(bytes[manifestEnd...])
        guard weightBytes.count == manifest.weightCount * 4 else {
            throw Failure(
                .invalidInput,
                "\(source): the artifact is truncated: \(weightBytes.count) weight bytes, \(manifest.weightCount * 4) expected"
            )
        }
        guard ContentDigest.sha256Hex(weightBytes) == manifest.weightsSHA256 else {
            throw Failure(.invalidInput, "\(source): the artifact's weights do not match their SHA-256; it was altered")
        }
        let weights = weightBytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let d = manifest.sizes.first ?? 0
        let parameterCount = RankerModel.parameterCount(manifest.sizes)
        guard manifest.sizes.count >= 2, manifest.sizes.last == 1, weights.count == parameterCount + 2 * d,
            manifest.signature.features.count == d
        else {
            throw Failure(.invalidInput, "\(source): the artifact's layer sizes do not match its weights or signature")
        }
        let model = RankerModel(
            kind: manifest.kind, sizes: manifest.sizes, parameters: Array(weights[0..<parameterCount]),
            mean: Array(weights[parameterCount..<(parameterCount + d)]), scale: Array(weights[(parameterCount + d)...]),
            signature: manifest.signature, featureContract: manifest.featureContract)
        return (model, manifest)
    }
}
