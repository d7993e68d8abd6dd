// ProbeSettings.swift: a posttls-finger run that trusts what smtp(8) trusts
// with a configuration: main.cf's smtp_tls_CAfile and smtp_tls_CApath
// (paths resolved as the daemons resolve them), unless the caller gives its
// own, and smtp_host_lookup.

import PostfixTools

extension PostTLSFingerRun {
    public init(
        configuration: Configuration, executable: String, destination: String, level: String,
        caFile: String?, caPath: String?, timeout: Int
    ) {
        func setting(_ name: String) -> String? {
            let value = String(decoding: configuration.value(name), as: UTF8.self)
            return value.isEmpty ? nil : configuration.resolve(value)
        }
        let hostLookup = String(decoding: configuration.value("smtp_host_lookup"), as: UTF8.self)
        self.init(
            executable: executable, configDirectory: configuration.directory, destination: destination, level: level,
            caFile: caFile ?? setting("smtp_tls_CAfile"), caPath: caPath ?? setting("smtp_tls_CApath"),
            hostLookup: hostLookup.isEmpty ? nil : hostLookup, timeout: timeout)
    }
}
