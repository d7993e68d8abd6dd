// WriteReach.swift: which files a plan would write outside the
// configuration directory, asked before apply runs (check suggests
// --allow-path for them instead of an apply that would refuse).

extension Preview {
    /// The files apply would write that lie outside the configuration
    /// directory (symbolic links of their directories resolved), as paths.
    public var targetsOutsideConfigurationDirectory: [String] {
        guard let directory = WritePolicy.canonicalPath(configuration.directory) else { return [] }
        return WriteTarget.of(plan, configuration: configuration).compactMap { target in
            let (parent, name) = WritePolicy.split(target.path)
            guard let canonicalParent = WritePolicy.canonicalPath(parent) else { return nil }
            let canonical = joinPath(canonicalParent, name)
            return WritePolicy.isWithin(canonical, directory) ? nil : target.path
        }
    }
}
