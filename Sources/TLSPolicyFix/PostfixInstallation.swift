// PostfixInstallation.swift: facts about the installed Postfix that the tool
// asks Postfix itself for (its version), rather than guessing.

import Foundation
import PostconfModel

public enum PostfixInstallation {
    /// The installed Postfix's version, from `postconf -d -h mail_version`.
    /// Throws with the reason when postconf cannot be run or answers oddly.
    public static func version() throws(ConfigurationError) -> PostfixVersion {
        let candidates = ["/usr/sbin/postconf", "/usr/local/sbin/postconf"]
        guard let postconf = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .postfixVersionUnknown(reason: "postconf not found in /usr/sbin or /usr/local/sbin")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: postconf)
        process.arguments = ["-d", "-h", "mail_version"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .postfixVersionUnknown(reason: "cannot run \(postconf): \(error.localizedDescription)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, let version = PostfixVersion(text) else {
            throw .postfixVersionUnknown(reason: "\(postconf) -d -h mail_version printed \"\(text)\" and exited \(process.terminationStatus)")
        }
        return version
    }
}
