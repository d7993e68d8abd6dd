// StaticTableJudgedByPostmapTests.swift: what apply writes for a static:
// policy table is what Postfix reads: postconf expands the new map list and
// postmap -q on it answers the policy with servername, for any key.

import Foundation
import PostfixTestSupport
import Testing

struct StaticTableJudgedByPostmapTests {
    @Test func postmapReadsTheFixedStaticTable() throws {
        let directory = try TestDirectory("ptf-static")
        let config = directory.file("postfix")
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = static:verify\n")
        let apply = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"])
        #expect(apply.status == 0, "\(apply.errors)")
        let maps = try ExternalTool.postconf(["-h", "smtp_tls_policy_maps"], configDirectory: config).outputText
        #expect(maps == "static:{ verify servername=hostname }\n")
        let answer = try ExternalTool.postmap(["-q", "any.example", String(maps.dropLast())], configDirectory: config)
        #expect(answer.outputText == "verify servername=hostname\n", "\(answer.errors)")
        #expect(try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"]).status == 0)
    }
}
