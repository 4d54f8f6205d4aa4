// libFuzzer's entry points for the wire fuzzer; the target itself is `WireFuzzTarget`
// (Fuzz/Harness, a library of the main package, which its tests replay inputs through).
// Built by scripts/fuzz with -sanitize=fuzzer,address: libFuzzer brings `main`.

import Foundation
import XCertWireFuzzing

/// One input: the bytes a client sends on one connection. A broken invariant traps, which
/// libFuzzer reports as a crash and keeps the input of.
@_cdecl("LLVMFuzzerTestOneInput")
public func wireFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count))
    let run: WireFuzzRun
    do {
        run = try WireFuzzTarget.run(input)
    } catch {
        fatalError("the decoder's channel threw: \(error)")
    }
    if !run.problems.isEmpty {
        fatalError(run.problems.joined(separator: "\n"))
    }
    return 0
}

/// Called once before the first input: `--write-corpus DIR` writes the seed corpus and
/// exits instead of fuzzing; otherwise the method table is built here, outside the timing.
@_cdecl("LLVMFuzzerInitialize")
public func wireFuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let arguments = (0..<Int(argc.pointee)).compactMap { index in
        argv.pointee?[index].map { String(cString: $0) }
    }
    if let flag = arguments.firstIndex(of: "--write-corpus") {
        guard flag + 1 < arguments.count else {
            FileHandle.standardError.write(Data("usage: wire-fuzzer --write-corpus DIR\n".utf8))
            exit(2)
        }
        let directory = URL(fileURLWithPath: arguments[flag + 1])
        do {
            try WireFuzzSeeds.write(to: directory)
        } catch {
            FileHandle.standardError.write(Data("cannot write the corpus into \(directory.path): \(error)\n".utf8))
            exit(1)
        }
        print("wrote \(WireFuzzSeeds.files.count) seed files into \(directory.path)")
        exit(0)
    }
    _ = WireFuzzTarget.methods[""]
    return 0
}
