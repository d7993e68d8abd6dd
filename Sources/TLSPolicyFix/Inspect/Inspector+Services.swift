// Inspector+Services.swift: the rule for master.cf: an smtp or lmtp service
// with its own level, servername or policy maps is a client of its own.

import PostconfModel

extension InspectionState {
    /// master.cf: smtp/lmtp services with their own level, servername or maps.
    mutating func inspectServices(role: String) {
        let mainMaps = configuration.value("\(role)_tls_policy_maps")
        let fromFix = roleServernameFromFix[role] ?? false
        let mainClient = PolicyClient(
            role: role, label: "main.cf", hasServername: roleHasServername[role] ?? false, servernameFromFix: fromFix,
            maps: mainMaps, mapsLocation: mainCfLocation("\(role)_tls_policy_maps"), mapsOrigin: .mainCf(parameter: "\(role)_tls_policy_maps"))
        guard let masterCf else {
            clients.append(mainClient)
            return
        }
        let services = masterCf.services.filter { $0.command == role }
        let mainCfErrors = Set(
            Inspector.clientParameterSuffixes.map { role + $0 }.filter { configuration.parameters.expansion(ofParameter: $0)?.error != nil })
        if services.isEmpty { clients.append(mainClient) }
        for service in services {
            var values = configuration.mainCf.values
            for override in service.overrides { values[override.name] = override.value }
            let expander = ParameterExpander(
                explicit: values, configDirectory: Array(configuration.postfixConfigDirectory.utf8), defaults: configuration.parameters.defaults)
            let value: (String) -> [UInt8] = { expander.expandedValue($0) ?? [] }
            let location = SourceLocation(path: configuration.displayPath(masterCf.path), line: service.lineNumber)
            checkServiceExpansions(service, role: role, expander: expander, skipping: mainCfErrors, at: location)
            let servernameParameter = "\(role)_tls_servername"
            var hasServername: Bool
            var servernameFromFix = false
            if let own = service.override(servernameParameter) {
                let expanded = expander.expand(own.value)
                hasServername = !expanded.isEmpty
                inspectServiceServername(service, role: role, expanded: expanded, at: location)
            } else {
                hasServername = roleHasServername[role] ?? false
                servernameFromFix = fromFix
            }
            let levelValue = value("\(role)_tls_security_level")
            let ownLevel = service.override("\(role)_tls_security_level") != nil || service.override("\(role)_enforce_tls") != nil
            if ownLevel, !levelValue.isEmpty, TLSSecurityLevel(token: levelValue) == nil {
                findings.append(
                    Finding(
                        .error, .invalidParameter, at: location, subject: service.id,
                        "invalid TLS security level \"\(levelValue.printable)\"; the service stops with a fatal error"))
                continue
            }
            // A service that sets its own level, or empties the servername
            // main.cf gives, verifies as its effective values say.
            let ownServername = service.override(servernameParameter) != nil
            if ownLevel || ownServername, !hasServername, let level = InspectionState.level(role: role, value: value), level.level.verifiesPeerName {
                hasServername = judgeServiceWithoutServername(service, role: role, level: level.level, emptied: ownServername, at: location)
            }
            let mapsParameter = "\(role)_tls_policy_maps"
            if service.override(mapsParameter) != nil {
                clients.append(
                    PolicyClient(
                        role: role, label: "master.cf service \(service.id)", hasServername: hasServername,
                        servernameFromFix: servernameFromFix, maps: value(mapsParameter), mapsLocation: location,
                        mapsOrigin: .service(id: service.id, parameter: mapsParameter)))
            } else {
                clients.append(
                    PolicyClient(
                        role: role, label: "master.cf service \(service.id)", hasServername: hasServername,
                        servernameFromFix: servernameFromFix, maps: mainMaps, mapsLocation: mainClient.mapsLocation,
                        mapsOrigin: mainClient.mapsOrigin))
            }
        }
    }

    /// The service's own values that do not expand (those that do not in
    /// main.cf either, `skipping`, are reported at main.cf's lines): an -o
    /// override past the tool's expansion bound (read as empty otherwise),
    /// or one Postfix rejects.
    mutating func checkServiceExpansions(
        _ service: MasterCfService, role: String, expander: ParameterExpander, skipping: Set<String>, at location: SourceLocation
    ) {
        for suffix in Inspector.clientParameterSuffixes where !skipping.contains(role + suffix) {
            let name = role + suffix
            guard let expansion = expander.expansion(ofParameter: name), let error = expansion.error else { continue }
            let consequence =
                expansion.exceededSizeBound ? "the tool cannot tell what it says" : "the service stops with \"macro processing error\""
            findings.append(Finding(.error, .invalidParameter, at: location, subject: service.id, "\(name): \(error); \(consequence)"))
        }
    }

    /// A service that verifies without SNI: a fixable finding and the
    /// override to add, or a manual one when the service itself empties the
    /// servername (that may be deliberate). Returns whether the service has
    /// a servername once the plan is carried out.
    mutating func judgeServiceWithoutServername(
        _ service: MasterCfService, role: String, level: TLSSecurityLevel, emptied: Bool, at location: SourceLocation
    ) -> Bool {
        let parameter = "\(role)_tls_servername"
        if emptied {
            findings.append(
                Finding(
                    .manual, .missingServername, at: location, subject: service.id, level: level,
                    "\(level.rawValue) with an empty -o \(parameter)",
                    fix: "set -o \(parameter)=\(options.servername) on this service by hand"))
            return false
        }
        findings.append(
            Finding(
                .fixable, .missingServername, at: location, subject: service.id, level: level,
                "service sets \(role) TLS level \(level.rawValue) without \(parameter) (Postfix sends no SNI)",
                fix: "add -o \(parameter)=\(options.servername) to the service"))
        intents.append(.addServiceOverride(service, parameter: parameter))
        rolesNeedingServername.insert(role)
        return true
    }
}
