package spec

// The key table: for every key of deploy.yml the loader accepts, the test
// that shows its effect, or the test that shows it refused at load. A key
// added to the raw structs (raw.go and the shapes in keywalk_test.go)
// without a row here fails TestEveryConfigKeyHasAProof.
//
// To add a row: effect("TestName") when a test shows what the key does
// (several names with commas), refused("TestName") when the loader
// refuses it and TestName checks the error. unproven(why) records a key
// accepted today without such a test: the test lists them; each is debt
// to close (issue 14 part 4), not a place for new keys.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type keyProof struct {
	tests    []string // effect or refusal tests
	refused  bool
	unproven string
}

func effect(tests string) keyProof  { return keyProof{tests: strings.Split(tests, ",")} }
func refused(tests string) keyProof { return keyProof{tests: strings.Split(tests, ","), refused: true} }
func unproven(why string) keyProof  { return keyProof{unproven: why} }

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
	"error_pages_path":                  refused("TestProxyRefusals,TestKamalCompatCorpus"),
	"accessories.*.proxy":               refused("TestProxyRefusals"),
	"acme.email":                        effect("TestACME"),
	"acme.directory":                    effect("TestTLS"),
	"acme.ca_certificates":              effect("TestTLS"),

	// Kamal 1 traefik.
	"servers.*.traefik": effect("TestDeployRailsKamal1"),
	"traefik.args":      effect("TestStaticArgsGolden,TestTraefikContainerSpec"),
	"traefik.options":   effect("TestStaticContainerSpec"),
	"traefik.labels":    effect("TestStaticContainerSpec"),
	"traefik.env":       effect("TestStaticContainerSpec"),
	"traefik.image":     unproven("the plugin uses it as the Traefik image; no test names it"),
	"traefik.host_port": unproven("mapped to the published HTTP port; no test names it"),
	"traefik.publish":   unproven("mapped to no published ports; no test names it"),
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
	"volumes":                unproven("passed to the app container's volumes; no test names it"),
	"logging.driver":         unproven("passed to the app container's log driver; no test names it"),
	"logging.options":        unproven("passed to the app container's log options; no test names it"),
	"primary_role":           unproven("no named test of the primary-first order with a custom primary_role"),
	"allow_empty_roles":      unproven("no named test"),
	"retain_containers":      effect("TestPruneKeepsNewestPerDestination"),
	"readiness_delay":        effect("TestRunning"),
	"deploy_timeout":         effect("TestDeployCancelWhileWaitingHealthy"),
	"drain_timeout":          effect("TestDeployDrainTimeoutStillStopsBlue"),
	"stop_timeout":           unproven("passed to docker stop; no test names it"),
	"servers.*.stop_timeout": unproven("passed to docker stop; no test names it"),
	"stop_wait_time":         unproven("Kamal 1 stop timeout; no test names it"),
	"minimum_version":        effect("TestVersionLess,TestLoadErrors"),
	"require_destination":    effect("TestKamalCompatRequiredDestination"),
	"run_directory":          unproven("no named test"),
	"secrets_path":           unproven("no named test"),
	"aliases":                effect("TestAliasFromConfig"),
	"boot.limit":             effect("TestBootWaitBetweenBatches"),
	"boot.wait":              effect("TestBootWaitBetweenBatches"),
	"boot.parallel_roles":    effect("TestBootParallelRolesDefault"),

	// Kamal 1 healthcheck.
	"healthcheck.path":         effect("TestDeployRailsKamal1"),
	"healthcheck.port":         effect("TestDeployRailsKamal1"),
	"healthcheck.interval":     unproven("no named test"),
	"healthcheck.max_attempts": unproven("bounds the deploy timeout; no named test"),
	"healthcheck.cmd":          unproven("becomes a docker health-cmd; no named test"),
	"healthcheck.cord":         unproven("no named test"),
	"healthcheck.log_lines":    unproven("no named test"),

	// Registry.
	"registry.server":   effect("TestRegistryDeploy,TestRegistryLoginArgs"),
	"registry.username": effect("TestRegistryDeploy,TestRegistryLoginArgs"),
	"registry.password": effect("TestRegistryDeploy,TestRegistryLoginArgs"),

	// Accessories.
	"accessories.*.image":             effect("TestAccessoryRunArgs"),
	"accessories.*.service":           effect("TestAccessoryRunArgs"),
	"accessories.*.host":              effect("TestAccessoryCommands"),
	"accessories.*.hosts":             effect("TestAccessoryCommands"),
	"accessories.*.role":              unproven("no named test"),
	"accessories.*.roles":             unproven("no named test"),
	"accessories.*.tag":               unproven("no named test"),
	"accessories.*.tags":              unproven("no named test"),
	"accessories.*.cmd":               effect("TestAccessoryRunArgs"),
	"accessories.*.port":              effect("TestAccessoryRunArgs"),
	"accessories.*.labels":            effect("TestAccessoryRunArgs"),
	"accessories.*.options":           effect("TestAccessoryRunArgs"),
	"accessories.*.files":             effect("TestAccessoryFileContent"),
	"accessories.*.directories":       effect("TestAccessoryRunArgs"),
	"accessories.*.volumes":           effect("TestAccessoryRunArgs"),
	"accessories.*.network":           effect("TestAccessoryRunArgs"),
	"accessories.*.registry.server":   unproven("no named test"),
	"accessories.*.registry.username": unproven("no named test"),
	"accessories.*.registry.password": unproven("no named test"),

	// SSH (the ssh helper adds keys here).
	"ssh.user":                     effect("TestAuth"),
	"ssh.port":                     unproven("no named test"),
	"ssh.proxy":                    effect("TestProxyJump"),
	"ssh.proxy_command":            effect("TestProxyCommand"),
	"ssh.config":                   effect("TestSSHConfig,TestSSHOptions"),
	"ssh.keys":                     unproven("no named test"),
	"ssh.keys_only":                unproven("no named test"),
	"ssh.key_data":                 unproven("no named test"),
	"ssh.log_level":                unproven("no named test"),
	"ssh.forward_agent":            unproven("no named test"),
	"sshkit.max_concurrent_starts": unproven("no named test"),
	"sshkit.pool_idle_timeout":     unproven("no named test"),
	"sshkit.dns_retries":           unproven("no named test"),

	// Builder (the builder helper adds keys here).
	"builder.arch":            effect("TestBuilderBuildKit,TestArgs"),
	"builder.args":            effect("TestBuilderBuildKit,TestArgs"),
	"builder.context":         effect("TestBuilderBuildKit,TestCloneHEAD"),
	"builder.dockerfile":      effect("TestBuilderBuildKit,TestArgs"),
	"builder.target":          effect("TestBuilderBuildKit,TestArgs"),
	"builder.secrets":         effect("TestBuilderBuildKit,TestArgs"),
	"builder.ssh":             effect("TestBuilderBuildKit,TestArgs"),
	"builder.driver":          refused("TestBuilderRefusals,TestKamalCompatCorpus"),
	"builder.remote":          unproven("slice 2: TestBuilderRemote"),
	"builder.remote.arch":     unproven("slice 2: TestBuilderRemote"),
	"builder.remote.host":     refused("TestBuilderRefusals"),
	"builder.local":           refused("TestBuilderRefusals"),
	"builder.local.arch":      effect("TestBuilderAccepted"),
	"builder.local.host":      refused("TestBuilderRefusals"),
	"builder.cache.type":      refused("TestBuilderRefusals"),
	"builder.cache.options":   unproven("slice 3: registry cache"),
	"builder.cache.image":     unproven("slice 3: registry cache"),
	"builder.pack.builder":    refused("TestBuilderRefusals"),
	"builder.pack.buildpacks": refused("TestBuilderRefusals"),
	"builder.provenance":      refused("TestBuilderRefusals,TestArgs"),
	"builder.sbom":            refused("TestBuilderRefusals,TestArgs"),
	"builder.multiarch":       refused("TestBuilderRefusals"),

	// Hooks and output (the hooks helper adds keys here).
	"hooks_path":           effect("TestRunMissingSkippedAndNonExecutable"),
	"hooks_output":         unproven("no named test"),
	"output.file.path":     unproven("no named test"),
	"output.otel.endpoint": unproven("no named test"),

	// Extensions.
	"migrations.cmd":     effect("TestMigrationFailureSwapsNothing"),
	"migrations.timeout": unproven("no named test"),
	"sidecar.monitor":    unproven("no named test"),
}

// TestEveryConfigKeyHasAProof walks every key the loader knows: each has a
// row, each row is a key, and each named test exists in the module.
func TestEveryConfigKeyHasAProof(t *testing.T) {
	keys := configKeys()
	tests := moduleTests(t)
	var debt []string
	for _, k := range keys {
		if isSection(k, keys) {
			continue // its keys carry the proof
		}
		p, ok := keyTable[k]
		if !ok {
			t.Errorf("%s: no row in keyTable (pkg/spec/keytable_test.go): name the test that shows its effect, or refuse it at load and name the test of the refusal", k)
			continue
		}
		if p.unproven != "" {
			debt = append(debt, k+": "+p.unproven)
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
	t.Logf("%d keys; %d accepted without a named test of their effect:\n  %s", len(keys), len(debt), strings.Join(debt, "\n  "))
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
