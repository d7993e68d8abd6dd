// PolicyVerdicts.swift: what the inspection needs to know about a policy
// value (its level, whether it has a servername, why smtp(8) would reject
// it), remembered per distinct value. A large table repeats a handful of
// values ("verify", "secure match=nexthop:dot-nexthop", "dane-only") across
// most of its entries, and splitting each of them again cost more than
// reading the whole table.

import PostconfModel

struct PolicyVerdicts {
    struct Verdict {
        var level: TLSSecurityLevel?
        var hasServername: Bool
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
    private var slots: [(value: ArraySlice<UInt8>, verdict: Verdict)?]

    init(braces: Bool, postfixVersion: PostfixVersion) {
        self.braces = braces
        self.postfixVersion = postfixVersion
        slots = Array(repeating: nil, count: Self.slotCount)
    }

    mutating func verdict(for value: ArraySlice<UInt8>) -> Verdict {
        guard value.count <= Self.longestRemembered else { return analyse(value) }
        var hash: UInt32 = 2_166_136_261
        for byte in value { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let slot = Int(hash >> 20) & (Self.slotCount - 1)
        if let known = slots[slot], known.value.count == value.count, known.value.elementsEqual(value) {
            return known.verdict
        }
        let verdict = analyse(value)
        slots[slot] = (value, verdict)
        return verdict
    }

    private func analyse(_ value: ArraySlice<UInt8>) -> Verdict {
        let policy = PolicyValue(Array(value), braces: braces)
        return Verdict(
            level: policy.level, hasServername: policy.hasAttribute(named: "servername"),
            problems: policy.problems(postfixVersion: postfixVersion))
    }
}
