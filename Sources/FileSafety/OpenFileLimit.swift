// OpenFileLimit.swift: apply holds, across its commit, a lock and the old
// version of every file it replaces, and each directory its resolution
// pinned; a few hundred tables need more descriptors than the soft limit
// that shells (1024) and service managers set. The soft limit is only a
// default the process may raise up to the hard limit, as systemd's own
// tools do; failing with "Too many open files" instead would help no one.

import Glibc

public enum OpenFileLimit {
    /// Raises this process's soft limit on open files to its hard limit.
    /// Programs it starts inherit the raised limit; they are Postfix's own,
    /// which do not use select(2) on high descriptors.
    public static func raiseToHardLimit() {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }
}
