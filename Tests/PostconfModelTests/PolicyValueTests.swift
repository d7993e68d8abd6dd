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
        ("verify servername=", "\"servername=\" specifies an invalid hostname"),
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

    /// smtp_tls_policy.c's tls_policy_lookup_one (3.7 to 3.12): a level
    /// below "may" ignores every later token, malformed or not (it only logs
    /// "ignoring attribute ... with TLS disabled" and sends in clear).
    @Test(arguments: ["none # ticket 1234", "NONE servername=HOSTNAME,{ x", "none connection_reuse=true =x"])
    func noneIgnoresItsAttributes(value: String) {
        let policy = PolicyValue(Array(value.utf8), braces: false)
        #expect(policy.level == TLSSecurityLevel.none)
        #expect(policy.problems(postfixVersion: v37).isEmpty)
        #expect(PolicyValue(Array(value.utf8), braces: true).problems(postfixVersion: PostfixVersion(3, 10)).isEmpty)
    }

    /// Values smtp(8) checks, by version (smtp_tls_policy.c, tlsrpt_wrapper.c):
    /// connection_reuse and enable_rpk take yes or no in any case, the last
    /// one wins; the TLSRPT attributes have their own syntax, and all but
    /// policy_type need a policy_type beside them.
    @Test(arguments: [
        ("verify connection_reuse=true", "3.7", "attribute \"connection_reuse\" has bad value: \"true\""),
        ("may connection_reuse=", "3.7", "attribute \"connection_reuse\" has bad value: \"\""),
        ("verify enable_rpk=1", "3.9", "attribute \"enable_rpk\" has bad value: \"1\""),
        ("verify policy_type=dane", "3.10", "attribute \"policy_type\" has an unexpected value: \"dane\""),
        ("verify policy_type=sts policy_type=sts", "3.10", "attribute \"policy_type\" is specified multiple times"),
        ("verify policy_type=sts policy_ttl=1h", "3.10", "attribute \"policy_ttl\" has a malformed value: \"1h\""),
        ("verify policy_type=sts policy_ttl=2147483648", "3.10", "attribute \"policy_ttl\" has a malformed value: \"2147483648\""),
        ("verify policy_type=sts policy_domain=bad_!", "3.10", "attribute \"policy_domain\" has a malformed value: \"bad_!\""),
        ("verify policy_type=sts policy_failure=timeout", "3.10", "attribute \"policy_failure\" has an unexpected value: \"timeout\""),
        (
            "verify policy_string=version:STSv1", "3.10",
            "built-in policy has unexpected attribute policy_ttl, policy_domain, policy_string, mx_host_pattern or policy_failure"
        ),
        (", ,", "3.7", "invalid empty policy"),
    ])
    func attributeValuesSmtpRejects(value: String, version: String, problem: String) {
        let version = PostfixVersion(version)!
        let policy = PolicyValue(Array(value.utf8), braces: version >= PostfixVersion(3, 10))
        #expect(policy.problems(postfixVersion: version) == [problem])
    }

    @Test(arguments: [
        ("verify connection_reuse=YES connection_reuse=no", "3.7"),
        ("verify enable_rpk=yes enable_rpk=No", "3.9"),
        (
            "secure policy_type=STS policy_domain=example.com policy_ttl=86400 policy_string=version:STSv1 mx_host_pattern=*.example.com"
                + " mx_host_pattern=mx.example.com policy_failure=Sts-Policy-Invalid", "3.10"
        ),
        ("verify policy_type=no-policy-found", "3.10"),
    ])
    func attributeValuesSmtpAccepts(value: String, version: String) {
        let version = PostfixVersion(version)!
        #expect(PolicyValue(Array(value.utf8), braces: true).problems(postfixVersion: version).isEmpty)
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
