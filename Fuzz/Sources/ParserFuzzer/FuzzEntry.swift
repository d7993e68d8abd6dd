// FuzzEntry.swift: libFuzzer's entry point. Each input is checked against
// every parser (ParserRoundTrip); a violated property aborts, which
// libFuzzer records as a crash and saves as crash-<sha1>.

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let failures = ParserRoundTrip.failures(bytes)
    if !failures.isEmpty {
        // Straight to the descriptor: abort() would lose buffered output.
        let message = Array(("round trip violated: " + failures.joined(separator: "; ") + "\n").utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
    return 0
}

/// SwiftPM links an executable target's entry point as `<Target>_main`
/// (and points `main` at it), which would hide libFuzzer's own main; so the
/// entry point hands over to libFuzzer's driver explicitly.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("ParserFuzzer_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
