// PolicyVerdicts.swift: what the inspection needs to know about a policy
// value (its level, whether it has a servername and whether that is a
// keyword in the wrong case, why smtp(8) would reject it), remembered per distinct value. A large table repeats a handful of
// values ("verify", "secure match=nexthop:dot-nexthop", "dane-only") across
// most of its entries, and splitting each of them again cost more than
// reading the whole table.

import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

struct PolicyVerdicts {
    struct Verdict {
        var level: TLSSecurityLevel?
        var hasServername: Bool
        /// The keyword its servername means but is not, and the servername
        /// as written ("HOSTNAME"), if so.
        var miscased: (keyword: String, written: [UInt8])?
        /// Why smtp(8) would reject the value (empty when it accepts it).
        var problems: [String]
    }

    /// Values longer than this are mostly unique (a match= list naming the
    /// destination), so they are not worth remembering.
    static let longestRemembered = 64
    /// A direct-mapped cache: one value per slot, chosen by hash, the last
    /// one wins. Far cheaper per lookup than a Dictionary (SipHash) for the
    /// few values that make up most of a table.
    static let slotCount = 1 << 12

    let braces: Bool
    let postfixVersion: PostfixVersion
    /// The cache, as two arrays rather than one of optional pairs: reading
    /// a pair out of an array copied (retained) both of its parts.
    private var slotValues: [[UInt8]]
    private var slotVerdicts: [Verdict]

    init(braces: Bool, postfixVersion: PostfixVersion) {
        self.braces = braces
        self.postfixVersion = postfixVersion
        // An empty value is never looked up, so an empty slot never matches.
        slotValues = Array(repeating: [], count: Self.slotCount)
        slotVerdicts = Array(repeating: Verdict(level: nil, hasServername: false, miscased: nil, problems: []), count: Self.slotCount)
    }

    mutating func verdict(for value: ArraySlice<UInt8>) -> Verdict {
        guard value.count <= Self.longestRemembered, !value.isEmpty else { return analyse(value) }
        return value.withUnsafeBufferPointer { value in
            let slot = Self.slot(of: value)
            let known = slotValues[slot].withUnsafeBufferPointer { known in
                known.count == value.count && memcmp(known.baseAddress!, value.baseAddress!, value.count) == 0
            }
            if known { return slotVerdicts[slot] }
            let verdict = analyse(ArraySlice(value))
            slotValues[slot] = Array(value)
            slotVerdicts[slot] = verdict
            return verdict
        }
    }

    /// A value's slot, from its length and its first and last eight bytes
    /// (at most 16 loads, where hashing every byte cost more than the rest
    /// of the lookup). Values alike in those share a slot and take turns.
    private static func slot(of value: UnsafeBufferPointer<UInt8>) -> Int {
        let raw = UnsafeRawBufferPointer(value)
        var head: UInt64 = 0
        var tail: UInt64 = 0
        if raw.count >= 8 {
            head = raw.loadUnaligned(as: UInt64.self)
            tail = raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self)
        } else {
            for byte in raw { head = head << 8 | UInt64(byte) }
        }
        let mixed = (head &* 0x9E37_79B9_7F4A_7C15 ^ tail &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(raw.count)) &* 0x1656_67B1_9E37_79F9
        return Int(mixed >> 52) & (slotCount - 1)
    }

    private func analyse(_ value: ArraySlice<UInt8>) -> Verdict {
        let policy = PolicyValue(Array(value), braces: braces)
        let servername = policy.attributes(named: "servername").first
        return Verdict(
            level: policy.level, hasServername: servername != nil,
            miscased: servername.flatMap { servername in miscasedServernameKeyword(servername.value).map { ($0, Array(servername.value)) } },
            problems: policy.problems(postfixVersion: postfixVersion))
    }
}
