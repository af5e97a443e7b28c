package spec

// The key table: for every key of deploy.yml the loader accepts, the test
// that shows its effect, or the test that shows it refused at load. A key
// added to the raw structs (raw.go and the shapes in keywalk_test.go)
// without a row here fails TestEveryConfigKeyHasAProof.
//
// To add a row: effect("TestName") when a test shows what the key does
// (several names with commas), refused("TestName") when the loader
// refuses it and TestName checks the error. There is no third kind: a key
// accepted without a test of its effect fails the test.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type keyProof struct {
	tests   []string // effect or refusal tests
	refused bool
}

func effect(tests string) keyProof  { return keyProof{tests: strings.Split(tests, ",")} }
func refused(tests string) keyProof { return keyProof{tests: strings.Split(tests, ","), refused: true} }

var keyTable = map[string]keyProof{
	// proxy (Kamal 2).
	"proxy.host":                        effect("TestCustomCertificate,TestRule"),
	"proxy.hosts":                       effect("TestRule,TestRealTraefikCutover"),
	"proxy.app_port":                    effect("TestCustomCertificate,TestProxyHealthcheckOnTheWire"),
	"proxy.ssl":                         effect("TestTLS,TestACME"),
	"proxy.ssl.certificate_pem":         effect("TestCustomCertificate"),
	"proxy.ssl.private_key_pem":         effect("TestCustomCertificate"),
	"proxy.ssl_redirect":                effect("TestTLS"),
	"proxy.forward_headers":             effect("TestProxyForwardHeaders,TestProxyBoot,TestProxyRefusals"),
	"proxy.response_timeout":            effect("TestProxyResponseTimeout,TestProxyAppKeysOnTheWire"),
	"proxy.path_prefix":                 effect("TestProxyPathPrefixes,TestProxyAppKeysOnTheWire"),
	"proxy.path_prefixes":               effect("TestProxyPathPrefixes,TestProxyAppKeysOnTheWire"),
	"proxy.strip_path_prefix":           effect("TestProxyPathPrefixes,TestProxyAppKeysOnTheWire"),
	"proxy.healthcheck.path":            effect("TestProxyHealthcheckOnTheWire,TestHTTPBecomesHealthy"),
	"proxy.healthcheck.interval":        effect("TestProxyHealthcheckOnTheWire,TestHTTPPerAttemptTimeout"),
	"proxy.healthcheck.timeout":         effect("TestProxyHealthcheckOnTheWire,TestHTTPPerAttemptTimeout"),
	"proxy.buffering.requests":          effect("TestProxyAppKeysOnTheWire,TestProxyRefusals"),
	"proxy.buffering.responses":         effect("TestProxyAppKeysOnTheWire,TestProxyRefusals"),
	"proxy.buffering.max_request_body":  effect("TestProxyBuffering,TestProxyAppKeysOnTheWire"),
	"proxy.buffering.max_response_body": effect("TestProxyBuffering"),
	"proxy.buffering.memory":            effect("TestProxyBuffering,TestProxyAppKeysOnTheWire"),
	"proxy.logging.request_headers":     effect("TestProxyLoggingHeaders,TestProxyBoot"),
	"proxy.logging.response_headers":    effect("TestProxyLoggingHeaders,TestProxyBoot"),
	"proxy.run.http_port":               effect("TestCustomCertificate,TestProxyBoot"),
	"proxy.run.https_port":              effect("TestCustomCertificate,TestProxyBoot"),
	"proxy.run.log_max_size":            effect("TestCustomCertificate,TestProxyBoot"),
	"proxy.run.options":                 effect("TestCustomCertificate,TestProxyBoot,TestProxyRefusals"),
	"proxy.run.publish":                 effect("TestStaticHostProxy,TestProxyBoot"),
	"proxy.run.bind_ips":                effect("TestStaticHostProxy,TestProxyBoot"),
	"proxy.run.metrics_port":            effect("TestProxyRunMetricsAndDebug,TestProxyBoot"),
	"proxy.run.debug":                   effect("TestProxyRunMetricsAndDebug,TestProxyBoot"),
	"proxy.run.registry":                refused("TestKamalCompatCorpus"),
	"proxy.run.repository":              refused("TestProxyRefusals"),
	"proxy.run.version":                 refused("TestProxyRefusals"),
	"error_pages_path":                  effect("TestProxyErrorPages,TestSurfaceFleet,TestErrorPagesPath,TestErrorPagesStoredAndServed"),
	"accessories.*.proxy":               effect("TestAccessoryProxyRoute,TestAccessoryProxyOnTheWire,TestProxyRefusals"),
	"acme.email":                        effect("TestACME"),
	"acme.directory":                    effect("TestTLS"),
	"acme.ca_certificates":              effect("TestTLS"),

	// Kamal 1 traefik.
	"servers.*.traefik": effect("TestDeployRailsKamal1"),
	"traefik.args":      effect("TestStaticArgsGolden,TestTraefikContainerSpec"),
	"traefik.options":   effect("TestStaticContainerSpec"),
	"traefik.labels":    effect("TestStaticContainerSpec"),
	"traefik.env":       effect("TestStaticContainerSpec"),
	"traefik.image":     effect("TestKamal1TraefikKeys"),
	"traefik.host_port": effect("TestKamal1TraefikKeys,TestStaticContainerSpec"),
	"traefik.publish":   effect("TestKamal1TraefikKeys,TestStaticContainerSpec"),
	"labels":            effect("TestRealTraefikAcceptsKamal1Labels,TestDeployRailsKamal1"),
	"servers.*.labels":  effect("TestRealTraefikAcceptsKamal1Labels,TestDeployRailsKamal1"),

	// Roles and the app container.
	"service":                effect("TestFleetDeploy"),
	"image":                  effect("TestFleetDeploy"),
	"servers.*.hosts":        effect("TestFleetDeploy"),
	"servers.*.cmd":          effect("TestCmdArgs"),
	"servers.*.options":      effect("TestRoleOptions,TestApplyExtra"),
	"servers.*.asset_path":   effect("TestDeployAssetPath,TestDeployBridgesAssets"),
	"asset_path":             effect("TestDeployAssetPath,TestDeployBridgesAssets"),
	"env.clear":              effect("TestDeployRailsKamal1"),
	"env.secret":             effect("TestDeployRailsKamal1,TestEnvFileContent"),
	"env.tags":               effect("TestKamalCompatMeaning"),
	"volumes":                effect("TestAppContainerKeysReachDocker,TestSpecToAPI"),
	"logging.driver":         effect("TestAppContainerKeysReachDocker,TestSpecToAPI"),
	"logging.options":        effect("TestAppContainerKeysReachDocker,TestSpecToAPI"),
	"primary_role":           effect("TestPrimaryRoleBootsFirst"),
	"allow_empty_roles":      effect("TestAllowEmptyRoles"),
	"retain_containers":      effect("TestPruneKeepsNewestPerDestination"),
	"readiness_delay":        effect("TestRunning"),
	"deploy_timeout":         effect("TestDeployCancelWhileWaitingHealthy"),
	"drain_timeout":          effect("TestDeployDrainTimeoutStillStopsBlue,TestDrain"),
	"stop_timeout":           effect("TestAppContainerKeysReachDocker,TestSpecToAPI"),
	"servers.*.stop_timeout": effect("TestAppContainerKeysReachDocker,TestSpecToAPI"),
	"stop_wait_time":         effect("TestAppContainerKeysReachDocker"),
	"minimum_version":        effect("TestVersionLess,TestLoadErrors"),
	"require_destination":    effect("TestKamalCompatRequiredDestination"),
	"run_directory":          refused("TestKeysRefusedAtLoad"),
	"secrets_path":           effect("TestSecretsPath"),
	"aliases":                effect("TestAliasFromConfig"),
	"boot.limit":             effect("TestBootWaitBetweenBatches"),
	"boot.wait":              effect("TestBootWaitBetweenBatches"),
	"boot.parallel_roles":    effect("TestBootParallelRolesDefault"),

	// Kamal 1 healthcheck.
	"healthcheck.path":         effect("TestDeployRailsKamal1"),
	"healthcheck.port":         effect("TestDeployRailsKamal1"),
	"healthcheck.interval":     effect("TestKamal1HealthcheckOnTheWire,TestHTTPPerAttemptTimeout"),
	"healthcheck.max_attempts": effect("TestKamal1HealthcheckOnTheWire"),
	"healthcheck.cmd":          effect("TestKamal1HealthcheckOnTheWire,TestApplyExtra"),
	"healthcheck.cord":         refused("TestKeysRefusedAtLoad"),
	"healthcheck.log_lines":    effect("TestHealthcheckLogLines"),

	// Registry.
	"registry.server":   effect("TestRegistryDeploy,TestRegistryLoginArgs"),
	"registry.username": effect("TestRegistryDeploy,TestRegistryLoginArgs"),
	"registry.password": effect("TestRegistryDeploy,TestRegistryLoginArgs"),

	// Accessories.
	"accessories.*.image":             effect("TestAccessoryRunArgs"),
	"accessories.*.service":           effect("TestAccessoryRunArgs"),
	"accessories.*.host":              effect("TestAccessoryCommands"),
	"accessories.*.hosts":             effect("TestAccessoryCommands"),
	"accessories.*.role":              effect("TestAccessoryHostsFromRolesAndTags"),
	"accessories.*.roles":             effect("TestAccessoryHostsFromRolesAndTags"),
	"accessories.*.tag":               effect("TestAccessoryHostsFromRolesAndTags"),
	"accessories.*.tags":              effect("TestAccessoryHostsFromRolesAndTags"),
	"accessories.*.cmd":               effect("TestAccessoryRunArgs"),
	"accessories.*.port":              effect("TestAccessoryRunArgs"),
	"accessories.*.labels":            effect("TestAccessoryRunArgs"),
	"accessories.*.options":           effect("TestAccessoryRunArgs"),
	"accessories.*.files":             effect("TestAccessoryFileContent"),
	"accessories.*.directories":       effect("TestAccessoryRunArgs"),
	"accessories.*.volumes":           effect("TestAccessoryRunArgs"),
	"accessories.*.network":           effect("TestAccessoryRunArgs"),
	"accessories.*.registry.server":   effect("TestAccessoryRegistryLogin"),
	"accessories.*.registry.username": effect("TestAccessoryRegistryLogin"),
	"accessories.*.registry.password": effect("TestAccessoryRegistryLogin"),

	// SSH (the ssh helper adds keys here).
	"ssh.user":                     effect("TestAuth"),
	"ssh.port":                     effect("TestSSHOptionsPortKeysSSHKit,TestResolve"),
	"ssh.proxy":                    effect("TestProxyJump"),
	"ssh.proxy_command":            effect("TestProxyCommand"),
	"ssh.config":                   effect("TestSSHConfig,TestSSHOptions"),
	"ssh.keys":                     effect("TestSSHOptionsPortKeysSSHKit,TestAuth"),
	"ssh.keys_only":                effect("TestSSHOptionsPortKeysSSHKit,TestKeysOnly"),
	"ssh.key_data":                 effect("TestSSHOptionsKeyDataForwardAgentLogLevel,TestKeyData"),
	"ssh.log_level":                effect("TestSSHOptionsKeyDataForwardAgentLogLevel,TestLogLevel"),
	"ssh.forward_agent":            effect("TestSSHOptionsKeyDataForwardAgentLogLevel,TestForwardAgent"),
	"sshkit.max_concurrent_starts": effect("TestSSHOptionsPortKeysSSHKit,TestPoolMaxConcurrentDials"),
	"sshkit.pool_idle_timeout":     refused("TestKeysRefusedAtLoad"),
	"sshkit.dns_retries":           effect("TestSSHOptionsPortKeysSSHKit,TestPoolDNSRetries"),

	// Builder (the builder helper adds keys here).
	"builder.arch":            effect("TestBuilderBuildKit,TestArgs,TestCheckArch,TestBuilderArchMismatch"),
	"builder.args":            effect("TestBuilderBuildKit,TestArgs"),
	"builder.context":         effect("TestBuilderBuildKit,TestCloneHEAD"),
	"builder.dockerfile":      effect("TestBuilderBuildKit,TestArgs"),
	"builder.target":          effect("TestBuilderBuildKit,TestArgs"),
	"builder.secrets":         effect("TestBuilderBuildKit,TestArgs"),
	"builder.ssh":             effect("TestBuilderBuildKit,TestArgs"),
	"builder.driver":          refused("TestBuilderRefusals,TestKamalCompatCorpus"),
	"builder.remote":          effect("TestBuilderRemote,TestForwardEngine,TestUseRemote"),
	"builder.remote.arch":     effect("TestBuilderAccepted,TestUseRemote"),
	"builder.remote.host":     effect("TestBuilderAccepted,TestBuilderRefusals"),
	"builder.local":           effect("TestBuilderRemote,TestUseRemote,TestBuilderRefusals"),
	"builder.local.arch":      effect("TestBuilderAccepted"),
	"builder.local.host":      refused("TestBuilderRefusals"),
	"builder.cache.type":      effect("TestBuilderCache,TestBuildOptions,TestBuilderRefusals"),
	"builder.cache.options":   refused("TestBuilderRefusals"),
	"builder.cache.image":     effect("TestBuildOptions"),
	"builder.pack.builder":    refused("TestBuilderRefusals"),
	"builder.pack.buildpacks": refused("TestBuilderRefusals"),
	"builder.provenance":      refused("TestBuilderRefusals,TestArgs"),
	"builder.sbom":            refused("TestBuilderRefusals,TestArgs"),
	"builder.multiarch":       refused("TestBuilderRefusals"),

	// Hooks and output (the hooks helper adds keys here).
	"hooks_path":           effect("TestRunMissingSkippedAndNonExecutable"),
	"hooks_output":         effect("TestHooksOutput"),
	"output.file.path":     refused("TestKeysRefusedAtLoad"),
	"output.otel.endpoint": refused("TestKeysRefusedAtLoad"),

	// Extensions.
	"migrations.cmd":     effect("TestMigrationFailureSwapsNothing"),
	"migrations.timeout": effect("TestMigrationsTimeout"),
	"sidecar.monitor":    effect("TestSidecarMonitorPublished"),
	"sidecar.keep_warm":  effect("TestKeepWarmOnTheWire,TestWarmRollback,TestKeepWarmLeavesBlueRunningOutOfRotation"),
}

// TestEveryConfigKeyHasAProof walks every key the loader knows: each has a
// row, each row is a key, and each named test exists in the module.
func TestEveryConfigKeyHasAProof(t *testing.T) {
	keys := configKeys()
	tests := moduleTests(t)
	for _, k := range keys {
		if isSection(k, keys) {
			continue // its keys carry the proof
		}
		p, ok := keyTable[k]
		if !ok {
			t.Errorf("%s: no row in keyTable (pkg/spec/keytable_test.go): name the test that shows its effect, or refuse it at load and name the test of the refusal", k)
			continue
		}
		if len(p.tests) == 0 {
			t.Errorf("%s: accepted without a test of its effect: name the test that shows what it does, or refuse it at load and name the test of the refusal", k)
			continue
		}
		for _, name := range p.tests {
			if !tests[name] {
				t.Errorf("%s: its row names %s, which is no test of the module", k, name)
			}
		}
	}
	for k := range keyTable {
		if !slices.Contains(keys, k) {
			t.Errorf("keyTable row %s is no key the loader knows (renamed? removed?)", k)
		}
	}
	t.Logf("%d keys, each with a test of its effect or of its refusal", len(keys))
}

// isSection reports whether k has keys below it (its own value is a
// mapping they fill), unless the table has a row for k itself.
func isSection(k string, keys []string) bool {
	if _, ok := keyTable[k]; ok {
		return false
	}
	return slices.ContainsFunc(keys, func(o string) bool { return strings.HasPrefix(o, k+".") })
}

// moduleTests are the names of the module's top-level test functions.
func moduleTests(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	out := map[string]bool{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			out[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
