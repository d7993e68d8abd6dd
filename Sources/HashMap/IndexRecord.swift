// IndexRecord.swift: one key/value pair of an index, as the application sees
// it, i.e. without the trailing NUL bytes postmap adds on disk.

public struct IndexRecord: Sendable, Equatable, Hashable {
    public var key: [UInt8]
    public var value: [UInt8]

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }

    /// Convenience for textual tables such as TLS policy maps.
    public init(key: String, value: String) {
        self.init(key: Array(key.utf8), value: Array(value.utf8))
    }
}
