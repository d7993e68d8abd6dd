// Inspector.swift: the rule. Finds every place where a verifying TLS level
// (verify, secure) is used without SNI, and says what should change there
// (EditIntent); the planner turns that into byte edits and index rebuilds.
// The rule's parts live beside this file: Inspector+MainCf (main.cf levels
// and per-site tables), Inspector+Services (master.cf), Inspector+Tables
// (policy tables), Inspector+Keywords (servername values that are no
// hostname, or keywords in the wrong case, which Postfix sends literally).
//
// Where a level can come from, and the fix for each:
// - main.cf <role>_tls_security_level (or the obsolete <role>_enforce_tls
//   with <role>_tls_enforce_peername): <role>_tls_servername in main.cf;
// - a master.cf smtp/lmtp service's "-o <role>_tls_security_level=...":
//   "-o <role>_tls_servername=..." on that service;
// - entries of the tables in <role>_tls_policy_maps (from main.cf or a
//   service's override): " servername=..." on the entry;
// - <role>_tls_per_site MUST entries (used only while the policy maps are
//   empty): they cannot carry attributes, so only a global servername helps.
// The roles are smtp and lmtp; lmtp(8) reads only lmtp_* parameters.
// An entry needs no edit when every client that reads it already has a
// servername from main.cf or its service, or when it can never be selected
// (a later duplicate key, or a key an earlier map in the list also has).

import HashMap
import PostconfModel

/// One reader of TLS policy: main.cf's settings for a role, or a master.cf
/// service with its overrides.
struct PolicyClient {
    var role: String
    /// "main.cf" or "master.cf service relay/unix", for messages.
    var label: String
    var hasServername: Bool
    /// Whether that servername is the one this run adds to main.cf (the
    /// client had none before).
    var servernameFromFix = false
    /// The policy map list in force, and where it is set.
    var maps: [UInt8]
    var mapsLocation: SourceLocation
    /// Where that list is written, for inline: tables.
    var mapsOrigin: MapOrigin
}

public enum Inspector {
    /// The client roles whose TLS policy Postfix reads.
    static let roles = ["smtp", "lmtp"]
    /// The parameters of a client role the rule reads (after the role's name).
    static let clientParameterSuffixes = [
        "_tls_security_level", "_tls_servername", "_tls_policy_maps", "_tls_per_site", "_enforce_tls", "_tls_enforce_peername",
    ]
    /// The other main.cf parameters the tool expands: where tables are and
    /// how their keys are read, other instances, and what the evidence of
    /// deferred mail needs. Each expansion is bounded (ParameterExpander's
    /// maximumExpandedSize and maximumSteps); one that stops there is an
    /// error naming its line, not a value read as empty.
    static let otherExpandedParameters = [
        "queue_directory", "smtputf8_enable", "parent_domain_matches_subdomains", "default_database_type", "non_bdb_migration_level",
        "multi_instance_directories", "relayhost", "transport_maps", "default_transport", "recipient_delimiter", "smtp_tcp_port",
        "smtp_host_lookup",
    ]

    public static func inspect(_ configuration: Configuration, options: FixOptions) throws(LoadError) -> Inspection {
        let state = try inspect(configuration, options: options, globalRoles: [])
        // --global-servername: the one-line alternative (postconf -e
        // <role>_tls_servername=hostname), for the roles that need SNI
        // somewhere, in place of every entry's and service's own edit.
        guard options.globalServername, !state.rolesNeedingServername.isEmpty else { return state.inspection }
        return try inspect(configuration, options: options, globalRoles: state.rolesNeedingServername).inspection
    }

    private static func inspect(_ configuration: Configuration, options: FixOptions, globalRoles: Set<String>) throws(LoadError)
        -> InspectionState
    {
        var state = InspectionState(configuration: configuration, options: options)
        state.checkParametersPostfixRejects()
        state.checkInterruptedApply()
        for role in roles { state.inspectServername(role: role) }
        for role in roles where globalRoles.contains(role) { state.setServernameForEveryDestination(role: role) }
        for role in roles { state.inspectGlobalLevel(role: role) }
        for role in roles { state.inspectPerSite(role: role) }
        for role in roles { state.inspectServices(role: role) }
        try state.inspectTables()
        state.checkAbandonedTemporaryFiles()
        return state
    }
}

/// The work of one inspection: findings and intents accumulate here.
struct InspectionState {
    let configuration: Configuration
    let options: FixOptions
    var findings: [Finding] = []
    var entryFixes = EntryFixFindings()
    var intents: [EditIntent] = []
    /// Whether main.cf (after the intended edits) gives each role a servername.
    var roleHasServername: [String: Bool] = [:]
    /// Whether that is only by the intended edit of main.cf.
    var roleServernameFromFix: [String: Bool] = [:]
    /// The roles for which an entry or a service gets a servername of its
    /// own (what --global-servername gives every destination instead).
    var rolesNeedingServername: Set<String> = []
    var clients: [PolicyClient] = []

    var writableFiles: [String] = []
    var inspection: Inspection {
        Inspection(otherFindings: findings, entryFixes: entryFixes, intents: intents, writableFiles: writableFiles)
    }

    init(configuration: Configuration, options: FixOptions) {
        self.configuration = configuration
        self.options = options
        for role in Inspector.roles {
            roleHasServername[role] = !configuration.value("\(role)_tls_servername").isEmpty
        }
    }

    var masterCf: MasterCf? { configuration.masterCf }

    func mainCfLocation(_ parameter: String) -> SourceLocation {
        configuration.mainCfLocation(parameter)
    }

    /// The level a parameter set gives a role: <role>_tls_security_level, or
    /// when that is empty the obsolete <role>_enforce_tls.
    static func level(role: String, value: (String) -> [UInt8]) -> (level: TLSSecurityLevel, parameter: String)? {
        let levelParameter = "\(role)_tls_security_level"
        let levelValue = value(levelParameter)
        if !levelValue.isEmpty {
            return TLSSecurityLevel(token: levelValue).map { ($0, levelParameter) }
        }
        if value("\(role)_enforce_tls").equalsIgnoringASCIICase("yes") {
            let peername = value("\(role)_tls_enforce_peername").equalsIgnoringASCIICase("yes")
            return (peername ? .verify : .encrypt, "\(role)_enforce_tls")
        }
        return nil
    }

    /// Values that make Postfix's SMTP/LMTP client exit at start-up (a
    /// macro that does not expand, a level that is not one): errors, since
    /// no fix of ours helps while they stand.
    mutating func checkParametersPostfixRejects() {
        for role in Inspector.roles {
            for suffix in Inspector.clientParameterSuffixes {
                let name = role + suffix
                if let expansion = configuration.parameters.expansion(ofParameter: name), let error = expansion.error {
                    // Past the size bound Postfix would go on (or run out of memory).
                    let consequence =
                        expansion.exceededSizeBound ? "the tool cannot tell what it says" : "Postfix stops with \"macro processing error\""
                    findings.append(
                        Finding(.error, .invalidParameter, at: mainCfLocation(name), subject: name, "\(error); \(consequence)"))
                }
            }
            let level = configuration.value("\(role)_tls_security_level")
            if !level.isEmpty && TLSSecurityLevel(token: level) == nil {
                findings.append(
                    Finding(
                        .error, .invalidParameter, at: mainCfLocation("\(role)_tls_security_level"),
                        subject: "\(role)_tls_security_level",
                        "invalid TLS security level \"\(level.printable)\"; \(role)(8) stops with a fatal error"))
            }
        }
        // The other values the tool reads would be read as empty past the bound.
        for name in Inspector.otherExpandedParameters {
            if let expansion = configuration.parameters.expansion(ofParameter: name), expansion.exceededSizeBound, let error = expansion.error {
                findings.append(
                    Finding(.error, .invalidParameter, at: mainCfLocation(name), subject: name, "\(error); the tool cannot tell what it says"))
            }
        }
    }

    /// A journal left by an apply that was killed after its commit point:
    /// some of its files may not be in place yet; the next apply finishes it.
    /// A killed apply's temporary files: Postfix never reads them, but
    /// they can be large; the next apply removes them.
    mutating func checkAbandonedTemporaryFiles() {
        writableFiles = [configuration.mainCf.path] + (configuration.masterCf.map { [$0.path] } ?? []) + writableFiles
        for path in writableFiles.flatMap(configuration.files.abandonedTemporaryFiles(beside:)) {
            findings.append(
                Finding(
                    .note, .abandonedTemporaryFile, at: SourceLocation(path: configuration.displayPath(path)),
                    "a temporary file left by a killed apply", fix: "apply removes it"))
        }
    }

    mutating func checkInterruptedApply() {
        let journal = joinPath(configuration.directory, ApplyTransaction.journalName)
        guard configuration.files.exists(journal) else { return }
        findings.append(
            Finding(
                .fixable, .interruptedApply, at: SourceLocation(path: configuration.displayPath(journal)),
                "an earlier apply was interrupted while it renamed its files into place",
                fix: "run apply: it completes the interrupted one first"))
    }
}
