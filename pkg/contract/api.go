// Package contract is everything the docker-kamal plugin and a host's
// kamal-sidecar must agree on, and nothing else: the versioned deploy spec
// (one document per service, destination, role and host), the sidecar API's
// paths, request and response types, typed errors and NDJSON progress
// events, and the names both sides derive (containers, labels, Traefik
// objects). The two binaries may be built from different commits, so every
// field is documented and decoding rejects what it does not know.
//
// It imports nothing of the module and nothing beyond the standard library:
// each binary links it without pulling in the other side.
package contract

// Where the sidecar listens and how it is run on a host.
const (
	// SocketPath is the unix socket of the mutating API (mode 0600).
	SocketPath = "/run/kamal/sidecar.sock"
	// DefaultMonitorAddr is the read-only monitoring listener's default.
	DefaultMonitorAddr = "127.0.0.1:9321"
	// StateDir is the sidecar's state directory on the host (journal, lock,
	// audit log, Traefik dynamic config).
	StateDir = "/var/lib/kamal"
	// RunDir is the host directory holding SocketPath.
	RunDir = "/run/kamal"
	// MaintenancePort is where the sidecar answers requests for roles in
	// maintenance mode (a 503 page); Traefik reaches it on the app network,
	// it is never published.
	MaintenancePort = 9322
	// SidecarContainerName is the sidecar container's name on every host.
	SidecarContainerName = "kamal-sidecar"
	// ImageRepository is the sidecar image's repository; the tag is the
	// build version.
	ImageRepository = "kamal-sidecar"
	// MaxBodySize bounds every JSON request body (image intake excepted).
	MaxBodySize = 1 << 20
)

// API paths. Mutating paths are served only on the unix socket; the
// monitoring listener serves PathHealth, PathStatus and PathMetrics.
const (
	PathHealth        = "/healthz"
	PathMetrics       = "/metrics"
	PathStatus        = "/v1/status"
	PathApply         = "/v1/apply"          // POST Deploy → NDJSON events
	PathRollback      = "/v1/rollback"       // POST RollbackRequest → NDJSON events
	PathRoleStop      = "/v1/roles/stop"     // POST RoleRequest → RoleResponse
	PathRoleStart     = "/v1/roles/start"    // POST RoleRequest → RoleResponse
	PathVersions      = "/v1/versions"       // GET ?service&destination&role → VersionsResponse
	PathImageLoad     = "/v1/images/load"    // POST tar (or gzip) ?expectID → ImageLoadResponse
	PathLock          = "/v1/lock"           // GET → LockStatus
	PathLockAcquire   = "/v1/lock/acquire"   // POST LockRequest → LockStatus
	PathLockRelease   = "/v1/lock/release"   // POST LockRequest → LockStatus
	PathAudit         = "/v1/audit"          // GET ?limit → AuditLog; POST AuditEntry → AuditEntry
	PathTraefikBoot   = "/v1/traefik/boot"   // POST TraefikRequest → TraefikStatus
	PathTraefikReboot = "/v1/traefik/reboot" // POST TraefikRequest → TraefikStatus
	PathMaintenance   = "/v1/maintenance"    // POST MaintenanceRequest → MaintenanceResponse
	PathAssetsPrepare = "/v1/assets/prepare" // POST AssetsRequest → AssetsResponse
)

// Query parameter names.
const (
	QueryService     = "service"
	QueryDestination = "destination"
	QueryRole        = "role"
	QueryLimit       = "limit"
	QueryExpectID    = "expectID"
	// QuerySettled asks GET versions to answer once the role's operation
	// under way (a cancelled swap winding down) has ended, bounded by the
	// sidecar: the live version is then the one the swap left.
	QuerySettled = "settled"
)

// HeaderWho names who makes a request ("alice@laptop"), for the audit log.
const HeaderWho = "X-Kamal-Who"

// ContentTypeNDJSON is the media type of streamed progress events.
const ContentTypeNDJSON = "application/x-ndjson"
