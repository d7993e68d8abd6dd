// Inspector+Keywords.swift: the rule for the servername values of main.cf
// and services: one that is not a hostname at all (smtp(8) marks every TLS
// delivery without a servername of its own invalid, and defers it), and
// keywords in the wrong case. tls_client.c compares "hostname" and "nexthop" with strcmp, and
// valid_hostname() accepts "HOSTNAME", so smtp(8) sends such a value
// literally as the SNI name: a server picking its certificate by SNI finds
// none for it, as if no SNI were sent. main.cf's and a service's value are
// written in lower case in place, and so is a postmap source entry's when
// it is on one line (Inspector+Tables); other entries' are for a person.

import PostconfModel

extension InspectionState {
    /// The message for a keyword written as `written`.
    static func miscasedMessage(_ written: some Collection<UInt8>, keyword: String) -> String {
        "\"\(written.printable)\" is sent literally as the SNI name: Postfix knows only the lower-case keyword \(keyword)"
    }

    /// The error for a servername parameter's value that valid_hostname()
    /// rejects (smtp_tls_policy.c, after the policy lookup), if it is one.
    static func invalidServername(_ parameter: String, _ value: [UInt8]) -> String? {
        guard !value.isEmpty, !isValidHostname(value) else { return nil }
        return
            "\"\(parameter) = \(value.printable)\" specifies an invalid hostname; smtp(8) defers every TLS delivery that has no servername of its own"
    }

    /// main.cf's <role>_tls_servername: an error when it is no hostname;
    /// lowercased in place when the value written is a keyword in another
    /// case; for a person when it only expands to one ("$sni").
    mutating func inspectServername(role: String) {
        let parameter = "\(role)_tls_servername"
        let expanded = configuration.value(parameter)
        if let error = Self.invalidServername(parameter, expanded) {
            findings.append(Finding(.error, .invalidParameter, at: mainCfLocation(parameter), subject: parameter, error))
            return
        }
        guard let keyword = miscasedServernameKeyword(expanded) else { return }
        let message = Self.miscasedMessage(expanded, keyword: keyword)
        if let written = configuration.mainCf.definition(of: parameter)?.value, miscasedServernameKeyword(written) == keyword,
            configuration.mainCf.edit(replacingValueOf: parameter, with: Array(keyword.utf8)) != nil
        {
            findings.append(
                Finding(
                    .fixable, .miscasedKeyword, at: mainCfLocation(parameter), subject: parameter, message,
                    fix: "set \(parameter) = \(keyword) in main.cf"))
            intents.append(.lowercaseMainCfKeyword(parameter, keyword: keyword))
        } else {
            findings.append(
                Finding(
                    .manual, .miscasedKeyword, at: mainCfLocation(parameter), subject: parameter, message,
                    fix: "set \(parameter) = \(keyword) by hand"))
        }
    }

    /// A service's own "-o <role>_tls_servername=...", the same way.
    mutating func inspectServiceServername(_ service: MasterCfService, role: String, expanded: [UInt8], at location: SourceLocation) {
        let parameter = "\(role)_tls_servername"
        if let error = Self.invalidServername(parameter, expanded) {
            findings.append(Finding(.error, .invalidParameter, at: location, subject: service.id, error))
            return
        }
        guard let keyword = miscasedServernameKeyword(expanded), let own = service.override(parameter) else { return }
        let message = Self.miscasedMessage(expanded, keyword: keyword)
        if miscasedServernameKeyword(own.value) == keyword, masterCf?.edit(replacingValueOf: own, with: Array(keyword.utf8)) != nil {
            findings.append(
                Finding(
                    .fixable, .miscasedKeyword, at: location, subject: service.id, message,
                    fix: "set -o \(parameter)=\(keyword) on this service"))
            intents.append(.lowercaseServiceKeyword(service, parameter: parameter, keyword: keyword))
        } else {
            findings.append(
                Finding(
                    .manual, .miscasedKeyword, at: location, subject: service.id, message,
                    fix: "set -o \(parameter)=\(keyword) on this service by hand"))
        }
    }
}
