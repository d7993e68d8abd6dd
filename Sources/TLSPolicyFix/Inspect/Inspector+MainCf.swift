// Inspector+MainCf.swift: the rule for main.cf: a verifying level that
// applies to every destination of a role, and the <role>_tls_per_site
// table, whose MUST entries cannot carry servername.

import PostconfModel

extension InspectionState {
    /// main.cf: a verifying level for every destination and no servername.
    mutating func inspectGlobalLevel(role: String) {
        let parameter = "\(role)_tls_servername"
        guard roleHasServername[role] == false,
            let level = InspectionState.level(role: role, value: configuration.value), level.level.verifiesPeerName
        else { return }
        setGlobalServername(
            role: role, at: mainCfLocation(level.parameter), subject: level.parameter, level: level.level,
            message: "\(role) TLS level \(level.level.rawValue) without \(parameter) (Postfix sends no SNI)")
    }

    /// --global-servername: <role>_tls_servername in main.cf for every
    /// destination of the role, when some entry or service needs SNI.
    mutating func setServernameForEveryDestination(role: String) {
        let parameter = "\(role)_tls_servername"
        guard roleHasServername[role] == false else { return }
        setGlobalServername(
            role: role, at: mainCfLocation(parameter), subject: parameter, level: nil,
            message:
                "\(role) TLS policies verify without SNI (--global-servername: one setting for every \(role) destination instead of each entry's own)"
        )
    }

    mutating func setGlobalServername(role: String, at location: SourceLocation, subject: String, level: TLSSecurityLevel?, message: String) {
        let parameter = "\(role)_tls_servername"
        guard configuration.mainCf.edit(setting: parameter, to: Array(options.servername.utf8)) != nil else {
            // Set, but to something that expands to nothing ("$unset").
            findings.append(
                Finding(
                    .manual, .missingServername, at: mainCfLocation(parameter), subject: parameter, level: level,
                    "\(parameter) is set but expands to nothing", fix: "set \(parameter) = \(options.servername) by hand"))
            return
        }
        findings.append(
            Finding(
                .fixable, .missingServername, at: location, subject: subject, level: level, message,
                fix: "set \(parameter) = \(options.servername) in main.cf"))
        intents.append(.setMainCfParameter(parameter))
        roleHasServername[role] = true
        roleServernameFromFix[role] = true
    }

    /// <role>_tls_per_site: consulted only while the policy maps are empty;
    /// MUST means verify, and the table has no room for attributes.
    mutating func inspectPerSite(role: String) {
        let parameter = "\(role)_tls_per_site"
        let list = configuration.value(parameter)
        guard !list.isEmpty, roleHasServername[role] == false else { return }
        if !configuration.value("\(role)_tls_policy_maps").isEmpty {
            findings.append(
                Finding(
                    .note, .perSiteIgnored, at: mainCfLocation(parameter), subject: parameter,
                    "ignored: Postfix does not read \(parameter) while \(role)_tls_policy_maps is set"))
            return
        }
        var mustEntries: [PolicySite] = []
        for element in MapReference.splitList(list) {
            guard let reference = MapReference(element) else { continue }
            let load: TableLoad
            do {
                load = try TableLoader.load(reference, listedAt: mainCfLocation(parameter), configuration: configuration, options: options)
            } catch {
                findings.append(Finding(.error, .brokenEntry, at: mainCfLocation(parameter), subject: reference.description, error.description))
                continue
            }
            guard case .loaded(let table) = load else { continue }
            mustEntries += table.sites.filter { $0.value.equalsIgnoringASCIICase("MUST") }
        }
        guard !mustEntries.isEmpty else { return }
        if options.globalServername {
            setGlobalServername(
                role: role, at: mainCfLocation(parameter), subject: parameter, level: .verify,
                message: "\(mustEntries.count) MUST entr\(mustEntries.count == 1 ? "y" : "ies") (= verify) in \(parameter) without SNI")
            return
        }
        for site in mustEntries {
            findings.append(
                Finding(
                    .manual, .perSiteMust, at: site.location, subject: site.key, level: .verify,
                    "MUST (= verify) without SNI; \(parameter) entries cannot carry servername",
                    fix:
                        "set \(role)_tls_servername = \(options.servername) in main.cf (--global-servername), or move the entry to \(role)_tls_policy_maps"
                ))
        }
    }
}
