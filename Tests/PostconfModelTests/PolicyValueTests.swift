// PolicyValueTests.swift: policy values as smtp(8) reads them. The expected
// verdicts are the ones real smtp(8) 3.7 gave in postfix-semantics.md
// section 1.4 (each of those entries deferred mail with the quoted warning).

import PostconfModel
import Testing

struct PolicyValueTests {
    let v37 = PostfixVersion(3, 7, 11)

    @Test(arguments: [
        ("verify servername=hostname # fixed by tool", "malformed attribute/value pair \"#\": missing '=' after attribute name"),
        ("verify sni=hostname", "invalid attribute name: \"sni\""),
        ("verified servername=hostname", "invalid security level \"verified\""),
        ("verify servername=", "attribute \"servername\" has empty value"),
        ("verify servername=bad_name!", "\"servername=bad_name!\" specifies an invalid hostname"),
        ("verify servername=hostname servername=nexthop", "attribute \"servername\" is specified multiple times"),
        ("verify { servername = hostname }", "malformed attribute/value pair \"{\": missing '=' after attribute name"),
        ("encrypt match=hostname", "attribute \"match\" invalid at security level \"encrypt\""),
    ])
    func entriesSmtpRejects(value: String, problem: String) {
        let policy = PolicyValue(Array(value.utf8), braces: false)
        #expect(policy.problems(postfixVersion: v37).first == problem)
    }

    @Test(arguments: [
        "verify", "VERIFY ServerName=hostname", "secure match=nexthop:dot-nexthop", "dane-only",
        "verify,servername=hostname", "none servername=hostname", "fingerprint match=AA:BB",
        "may\tprotocols=!SSLv2 ciphers=high",
    ])
    func entriesSmtpAccepts(value: String) {
        #expect(PolicyValue(Array(value.utf8)).problems(postfixVersion: v37).isEmpty)
    }

    @Test func levelAndAttributesIgnoreCaseButKeepValues() {
        let policy = PolicyValue(Array("SeCuRe  Match=nexthop,SERVERNAME=HOSTNAME".utf8))
        #expect(policy.level == .secure)
        #expect(policy.attributes(named: "servername").map { Array($0.value) } == [Array("HOSTNAME".utf8)])
        #expect(policy.attributes(named: "match").count == 1)
    }

    @Test func bracesAreAttributesFrom310Only() {
        let value = Array("verify { servername = hostname } match=nexthop".utf8)
        let braced = PolicyValue(value, braces: true)
        #expect(braced.attributes(named: "servername").map { Array($0.value) } == [Array("hostname".utf8)])
        #expect(braced.problems(postfixVersion: PostfixVersion(3, 10)).isEmpty)
        #expect(!PolicyValue(value, braces: false).problems(postfixVersion: v37).isEmpty)
    }

    @Test func attributesNewerThanTheVersionAreInvalid() {
        let value = Array("verify servername=hostname".utf8)
        #expect(PolicyValue(value).problems(postfixVersion: PostfixVersion(3, 3)) == ["invalid attribute name: \"servername\""])
        #expect(PolicyValue(value).problems(postfixVersion: PostfixVersion(3, 4)).isEmpty)
    }

    @Test(arguments: [("3.7.11", PostfixVersion(3, 7, 11)), ("3.4", PostfixVersion(3, 4)), ("3.12-20260821", PostfixVersion(3, 12))])
    func versionsParse(text: String, version: PostfixVersion) {
        #expect(PostfixVersion(text) == version)
    }

    @Test func hostnamesFollowPostfix() {
        #expect(isValidHostname(Array("mx.gmail.com".utf8)))
        #expect(isValidHostname(Array("hostname".utf8)))
        #expect(!isValidHostname(Array("bad_name!".utf8)))
        #expect(!isValidHostname(Array("a..b".utf8)))
        #expect(!isValidHostname(Array("-a.b".utf8)))
        #expect(!isValidHostname(Array("1.2.3.4".utf8)))
        #expect(!isValidHostname(Array("trailing.dot.".utf8)))
    }
}
