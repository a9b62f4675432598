//! The Helm chart `helm/clientele`, checked with a real helm and the Kubernetes API schemas:
//! `helm lint --strict`, `helm template` with the default values and with the example files in
//! `helm/clientele/ci/`, `kubernetes-validate` on every rendered manifest, then the properties
//! the deployment relies on (probes, hardening, migration hook, secrets only by reference) and
//! that the rendered configuration is one the server accepts.
//!
//! The tools are installed on first use into ~/.cache/clientele-tools by
//! `scripts/chart-tools.sh` (npm and python3 needed); later runs reuse them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use clientele::Settings;
use clientele::config::LogFormat;
use figment::providers::Serialized;
use serde_json::Value;

/// Kubernetes versions the manifests are validated against: the oldest the chart supports
/// (`kubeVersion` in Chart.yaml; the preStop sleep action needs 1.30) and the kubectl shipped
/// beside the helm used here.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.33.0"];

const DEFAULTS: &[&str] = &[];
const PRODUCTION: &[&str] = &["-f", "ci/production-values.yaml"];
const ALL_SECRETS: &[&str] = &["-f", "ci/all-secrets-values.yaml"];
/// Everything optional switched on, and the jobs inside the api pods.
const NO_WORKER: &[&str] = &[
    "--set",
    "worker.enabled=false",
    "--set",
    "ingress.enabled=true",
    "--set",
    "autoscaling.enabled=true",
    "--set",
    "metrics.serviceMonitor.enabled=true",
];
const VALUE_SETS: [&[&str]; 4] = [DEFAULTS, PRODUCTION, ALL_SECRETS, NO_WORKER];

/// Where secret files are mounted in the pods.
const SECRETS_DIR: &str = "/run/secrets/clientele/";

struct Tools {
    helm: PathBuf,
    kubernetes_validate: PathBuf,
    python: PathBuf,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn chart() -> PathBuf {
    root().join("helm/clientele")
}

fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let out = run(Command::new(root().join("scripts/chart-tools.sh")));
        let text = String::from_utf8(out.stdout).unwrap();
        let get = |key: &str| {
            let prefix = format!("{key}=");
            PathBuf::from(text.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("{text}")))
        };
        Tools { helm: get("HELM"), kubernetes_validate: get("KUBERNETES_VALIDATE"), python: get("PYTHON") }
    })
}

fn run(mut command: Command) -> Output {
    let out = command.stderr(Stdio::piped()).output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn helm(args: &[&str]) -> String {
    let mut command = Command::new(&tools().helm);
    command.current_dir(chart()).args(args);
    String::from_utf8(run(command).stdout).unwrap()
}

/// The chart rendered with `values`: the YAML text and its documents as JSON.
struct Rendered {
    yaml: String,
    docs: Vec<Value>,
}

fn render(values: &[&str]) -> Rendered {
    let mut args = vec!["template", "rel", ".", "--namespace", "crm"];
    args.extend_from_slice(values);
    let yaml = helm(&args);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let mut python = Command::new(&tools().python);
    python.arg("-c").arg(
        "import json, sys, yaml\n\
         docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]\n\
         json.dump(docs, sys.stdout)",
    );
    python.arg(&file);
    let docs: Vec<Value> = serde_json::from_slice(&run(python).stdout).unwrap();
    assert!(!docs.is_empty(), "nothing rendered for {values:?}");
    Rendered { yaml, docs }
}

impl Rendered {
    fn all(&self, kind: &str) -> Vec<&Value> {
        self.docs.iter().filter(|d| d["kind"] == kind).collect()
    }

    fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
    }

    fn get(&self, kind: &str, name: &str) -> &Value {
        self.find(kind, name).unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    /// Every pod template: the api and worker Deployments and the migration Job.
    fn pods(&self) -> Vec<(String, &Value)> {
        self.docs
            .iter()
            .filter(|d| d["kind"] == "Deployment" || d["kind"] == "Job")
            .map(|d| (d["metadata"]["name"].as_str().unwrap().to_owned(), &d["spec"]["template"]["spec"]))
            .collect()
    }
}

fn container(pod: &Value) -> &Value {
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    &containers[0]
}

fn env(container: &Value) -> Vec<(String, &Value)> {
    container["env"].as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap().to_owned(), e)).collect()
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    env(container).into_iter().find(|(n, _)| n == name).and_then(|(_, e)| e["value"].as_str())
}

fn strings(list: &Value) -> Vec<&str> {
    list.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

#[test]
fn the_chart_lints_strictly_with_every_values_file() {
    for values in VALUE_SETS {
        let mut args = vec!["lint", "--strict", "."];
        args.extend_from_slice(values);
        let out = helm(&args);
        assert!(out.contains("0 chart(s) failed"), "{values:?}: {out}");
    }
    // The values schema refuses what it does not know, and database URLs in the config file.
    for bad in ["api.replicaz=2", "config.database.url=postgres://x", "secrets.database.existingSecret="] {
        let mut command = Command::new(&tools().helm);
        command.current_dir(chart()).args(["template", "rel", ".", "--set", bad]);
        let out = command.output().unwrap();
        assert!(!out.status.success(), "--set {bad} was accepted");
    }
}

#[test]
fn every_rendered_manifest_validates_against_the_kubernetes_schemas() {
    for values in VALUE_SETS {
        let rendered = render(values);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rendered.yaml");
        std::fs::write(&file, &rendered.yaml).unwrap();
        // ServiceMonitor is a CRD of the Prometheus Operator: no schema ships for it, so its
        // shape is checked by `objects_select_each_other` instead.
        let custom = rendered.all("ServiceMonitor").len();
        for version in KUBERNETES_VERSIONS {
            let mut validate = Command::new(&tools().kubernetes_validate);
            validate.args(["--strict", "-k", version]).arg(&file);
            let out = String::from_utf8(run(validate).stdout).unwrap();
            let passed = out.lines().filter(|l| l.contains(" passed for resource ")).count();
            assert_eq!(passed, rendered.docs.len() - custom, "{values:?} on {version}:\n{out}");
        }
    }
}

#[test]
fn pods_are_hardened_and_the_api_is_probed() {
    for values in VALUE_SETS {
        let rendered = render(values);
        let pods = rendered.pods();
        assert!(pods.len() >= 2, "{values:?}");
        // issue 12 #15: no other object runs a pod (a CronJob, a test hook, a bare Pod…) that
        // the checks below would miss.
        for doc in &rendered.docs {
            let runs_pods = doc["kind"] == "Pod"
                || doc["spec"]["template"]["spec"].is_object()
                || doc["spec"]["jobTemplate"].is_object();
            assert!(
                !runs_pods || doc["kind"] == "Deployment" || doc["kind"] == "Job",
                "{values:?}: {} {} runs pods outside the checks",
                doc["kind"],
                doc["metadata"]["name"]
            );
        }
        for (name, pod) in pods {
            let ctx = &pod["securityContext"];
            assert_eq!(ctx["runAsNonRoot"], true, "{name}");
            // The image's user (Dockerfile `USER 10001:10001`), fixed so files keep one owner.
            assert_eq!((ctx["runAsUser"].as_u64(), ctx["runAsGroup"].as_u64()), (Some(10001), Some(10001)), "{name}");
            assert_eq!(ctx["fsGroup"].as_u64(), Some(10001), "{name}");
            assert!(pod["initContainers"].is_null() && pod["ephemeralContainers"].is_null(), "{name}");
            assert!(pod["hostNetwork"].is_null() && pod["hostPID"].is_null() && pod["hostIPC"].is_null(), "{name}");
            assert_eq!(ctx["seccompProfile"]["type"], "RuntimeDefault", "{name}");
            assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
            let c = container(pod);
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
            assert_eq!(sc["runAsNonRoot"], true, "{name}");
            assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"], "{name}");
            assert!(sc["capabilities"]["add"].is_null(), "{name}");
            assert!(sc["privileged"].is_null() || sc["privileged"] == false, "{name}");
            assert!(sc["runAsUser"].is_null() || sc["runAsUser"] == 10001, "{name}: the container overrides the user");
            // Every mount but /tmp and the data directory is read-only.
            for mount in c["volumeMounts"].as_array().unwrap() {
                let path = mount["mountPath"].as_str().unwrap();
                let writable_ok = path == "/tmp" || path == "/var/lib/clientele";
                assert!(writable_ok || mount["readOnly"] == true, "{name}: {path} is mounted writable");
            }
            // The only writable places are emptyDir volumes: /tmp and the data directory.
            let volumes = pod["volumes"].as_array().unwrap();
            for path in ["/tmp", "/var/lib/clientele"] {
                let mount = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == path);
                let mount = mount.unwrap_or_else(|| panic!("{name}: nothing mounted at {path}"));
                let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
                assert!(volume["emptyDir"].is_object(), "{name}: {path} is not an emptyDir");
            }
            assert_eq!(env_value(c, "CLIENTELE_DATA_DIR"), Some("/var/lib/clientele"), "{name}");
            assert_eq!(env_value(c, "CLIENTELE_LOG__FORMAT"), Some("json"), "{name}");
            assert!(c["resources"]["requests"].is_object(), "{name}: no resource requests");
        }

        let api = container(&rendered.get("Deployment", "rel-clientele-api")["spec"]["template"]["spec"]);
        assert_eq!(api["args"], serde_json::json!(["serve"]));
        assert_eq!(api["ports"][0]["containerPort"], 8080);
        assert_eq!(api["ports"][0]["name"], "http");
        assert_eq!(api["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(api["readinessProbe"]["httpGet"]["port"], "http");
        assert_eq!(api["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(api["livenessProbe"]["httpGet"]["port"], "http");
        assert_eq!(env_value(api, "CLIENTELE_SERVER__BIND"), Some("0.0.0.0:8080"));
        assert_eq!(env_value(api, "CLIENTELE_DATABASE__MIGRATE_ON_START"), Some("false"));
        let worker = rendered.find("Deployment", "rel-clientele-worker");
        // The api runs the jobs exactly when no worker does.
        let in_process = if worker.is_some() { "false" } else { "true" };
        assert_eq!(env_value(api, "CLIENTELE_RETENTION__IN_PROCESS"), Some(in_process), "{values:?}");
        if let Some(worker) = worker {
            let worker = container(&worker["spec"]["template"]["spec"]);
            assert_eq!(worker["args"], serde_json::json!(["worker"]));
        }
    }
}

#[test]
fn migrations_run_as_a_pre_install_and_pre_upgrade_hook_with_the_owner_url() {
    for (values, owner_key, app_key) in [(DEFAULTS, "migration-url", "url"), (PRODUCTION, "owner-url", "app-url")] {
        let rendered = render(values);
        let job = rendered.get("Job", "rel-clientele-migrate");
        let annotations = &job["metadata"]["annotations"];
        assert_eq!(annotations["helm.sh/hook"], "pre-install,pre-upgrade");
        assert!(annotations["helm.sh/hook-delete-policy"].as_str().unwrap().contains("before-hook-creation"));
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        let c = container(pod);
        assert_eq!(c["args"], serde_json::json!(["migrate"]));
        // A pre-install hook runs before the chart's other objects exist: no ConfigMap.
        assert!(pod["volumes"].as_array().unwrap().iter().all(|v| v["configMap"].is_null()));
        let file = env_value(c, "CLIENTELE_DATABASE__MIGRATION_URL_FILE").unwrap();
        assert_eq!(secret_key_behind(pod, c, file), Some(owner_key.to_owned()));
        assert!(env_value(c, "CLIENTELE_DATABASE__URL_FILE").is_none(), "the Job needs only the owner");

        // The api and the worker read the app URL and never see the owner's.
        for (name, pod) in rendered.pods().into_iter().filter(|(n, _)| !n.ends_with("-migrate")) {
            let c = container(pod);
            let file = env_value(c, "CLIENTELE_DATABASE__URL_FILE").unwrap();
            assert_eq!(secret_key_behind(pod, c, file), Some(app_key.to_owned()), "{name}");
            assert!(env_value(c, "CLIENTELE_DATABASE__MIGRATION_URL_FILE").is_none(), "{name}");
            let items: Vec<&Value> = pod["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v["secret"]["items"].as_array())
                .flatten()
                .collect();
            assert!(items.iter().all(|i| i["key"] != owner_key), "{name} mounts the owner URL");
        }
    }
}

/// The key of the Secret that `file` (a path in `container`) comes from, if it is a secret file.
fn secret_key_behind(pod: &Value, container: &Value, file: &str) -> Option<String> {
    let (dir, name) = file.rsplit_once('/')?;
    let mount = container["volumeMounts"].as_array()?.iter().find(|m| m["mountPath"] == dir)?;
    let volume = pod["volumes"].as_array()?.iter().find(|v| v["name"] == mount["name"])?;
    let item = volume["secret"]["items"].as_array()?.iter().find(|i| i["path"] == name)?;
    item["key"].as_str().map(str::to_owned)
}

#[test]
fn secrets_are_only_referenced_never_inline() {
    for values in VALUE_SETS {
        let rendered = render(values);
        // No Secret objects at all: the chart takes existing ones by name.
        assert!(rendered.all("Secret").is_empty(), "{values:?}");
        for needle in ["postgres://", "postgresql://", "-----BEGIN", "password:"] {
            assert!(!rendered.yaml.contains(needle), "{values:?}: `{needle}` in the rendered chart");
        }
        // No setting in the ConfigMap holds a credential (durations of one-time links are fine).
        let toml = rendered.get("ConfigMap", "rel-clientele")["data"]["clientele.toml"].as_str().unwrap();
        for key in toml.lines().filter_map(|l| l.split_once(" = ")).map(|(k, _)| k.trim()) {
            let credential = ["password", "secret", "token", "key", "url"].iter().any(|w| key.contains(w));
            let harmless = key == "public_url" || key.ends_with("_minutes") || key.ends_with("_seconds");
            assert!(!credential || harmless, "{values:?}: `{key}` in the ConfigMap");
        }
        for (name, pod) in rendered.pods() {
            let c = container(pod);
            assert!(c["envFrom"].is_null(), "{name}");
            for (var, entry) in env(c) {
                if let Some(file) = var.strip_suffix("_FILE").and(entry["value"].as_str()) {
                    // Secret settings are files from a mounted Secret.
                    assert!(file.starts_with(SECRETS_DIR), "{name}: {var}={file}");
                    assert!(secret_key_behind(pod, c, file).is_some(), "{name}: {var} is no mounted secret file");
                } else {
                    let upper = var.to_uppercase();
                    for word in ["URL", "PASSWORD", "SECRET", "TOKEN", "_KEY"] {
                        assert!(!upper.contains(word), "{name}: {var} looks like a secret passed by value");
                    }
                    // Anything else is either a plain value or a valueFrom reference.
                    assert!(entry["value"].is_string() || entry["valueFrom"].is_object(), "{name}: {var}");
                }
            }
        }
    }
    // Each optional secret is mounted in the api and passed by file name.
    let rendered = render(ALL_SECRETS);
    let pod = &rendered.get("Deployment", "rel-clientele-api")["spec"]["template"]["spec"];
    let c = container(pod);
    for (var, key) in [
        ("CLIENTELE_MAIL__SMTP_PASSWORD_FILE", "password"),
        ("CLIENTELE_FILES__S3_ACCESS_KEY_ID_FILE", "access-key-id"),
        ("CLIENTELE_FILES__S3_SECRET_ACCESS_KEY_FILE", "secret-access-key"),
        ("CLIENTELE_FILES__URL_SIGNING_KEY_FILE", "url-signing-key"),
        ("CLIENTELE_SEARCH__MEILISEARCH_API_KEY_FILE", "api-key"),
        ("CLIENTELE_OIDC__SECRET_KEY_FILE", "secret-key"),
        ("CLIENTELE_OIDC__OLD_SECRET_KEYS_FILE", "old-secret-keys"),
        ("CLIENTELE_AUTH__SIGNING_KEY_FILE", "signing-key"),
    ] {
        let file = env_value(c, var).unwrap_or_else(|| panic!("no {var}"));
        assert_eq!(secret_key_behind(pod, c, file).as_deref(), Some(key), "{var}");
    }
}

#[test]
fn objects_select_each_other() {
    let rendered = render(NO_WORKER);
    let labels = |d: &Value| d["spec"]["template"]["metadata"]["labels"].clone();
    let api = rendered.get("Deployment", "rel-clientele-api");
    let api_labels = labels(api);
    let matches = |selector: &Value, labels: &Value| {
        selector.as_object().unwrap().iter().all(|(k, v)| &labels[k] == v) && !selector.as_object().unwrap().is_empty()
    };
    assert!(api["spec"]["replicas"].is_null(), "the HPA owns the replica count");
    let service = rendered.get("Service", "rel-clientele");
    assert!(matches(&service["spec"]["selector"], &api_labels));
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "http");
    let hpa = rendered.get("HorizontalPodAutoscaler", "rel-clientele-api");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "rel-clientele-api");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    let pdb = rendered.get("PodDisruptionBudget", "rel-clientele-api");
    assert!(matches(&pdb["spec"]["selector"]["matchLabels"], &api_labels));
    let ingress = rendered.get("Ingress", "rel-clientele");
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], "rel-clientele");
    assert_eq!(backend["port"]["name"], "http");
    let monitor = rendered.get("ServiceMonitor", "rel-clientele");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert!(matches(&monitor["spec"]["selector"]["matchLabels"], &service["metadata"]["labels"]));
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    // With the defaults: fixed replicas, no optional objects.
    let rendered = render(DEFAULTS);
    assert_eq!(rendered.get("Deployment", "rel-clientele-api")["spec"]["replicas"], 2);
    for kind in ["HorizontalPodAutoscaler", "Ingress", "ServiceMonitor", "Secret"] {
        assert!(rendered.all(kind).is_empty(), "{kind} rendered by default");
    }
}

/// The settings the server would load in `container`: the `ConfigMap`'s `clientele.toml`, then the
/// container's environment mapped as `Settings::figment` maps it (`_FILE` variables stand for
/// their key, with a placeholder value).
fn settings_in(rendered: &Rendered, container: &Value) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clientele.toml");
    let toml = rendered.get("ConfigMap", "rel-clientele")["data"]["clientele.toml"].as_str().unwrap();
    std::fs::write(&file, toml).unwrap();
    let mut figment = Settings::figment(Some(&file));
    let mut names = BTreeSet::new();
    for (var, entry) in env(container) {
        let Some(key) = var.strip_prefix("CLIENTELE_") else { continue };
        if key == "CONFIG" {
            assert_eq!(entry["value"], "/etc/clientele/clientele.toml");
            continue;
        }
        let (key, value) = match key.strip_suffix("_FILE") {
            Some(key) => (key, "postgres://placeholder@db/clientele".to_owned()),
            None => (key, entry["value"].as_str().unwrap().to_owned()),
        };
        let key = key.to_lowercase().replace("__", ".");
        assert!(names.insert(key.clone()), "{key} set twice");
        figment = figment.merge(Serialized::default(&key, value.parse::<figment::value::Value>().unwrap()));
    }
    figment.extract().unwrap_or_else(|e| panic!("the server would refuse this configuration: {e}\n{toml}"))
}

#[test]
fn the_rendered_configuration_is_one_the_server_accepts() {
    for values in [DEFAULTS, PRODUCTION, NO_WORKER] {
        let rendered = render(values);
        let worker = rendered.find("Deployment", "rel-clientele-worker");
        let mut pods = vec![rendered.get("Deployment", "rel-clientele-api")];
        pods.extend(worker);
        for pod in pods {
            let settings = settings_in(&rendered, container(&pod["spec"]["template"]["spec"]));
            assert_eq!(settings.log.format, LogFormat::Json);
            assert!(!settings.database.migrate_on_start, "the hook Job migrates");
            assert!(settings.database.url.is_some());
            assert!(settings.database.migration_url.is_none());
            assert_eq!(settings.data_dir, Path::new("/var/lib/clientele"));
            assert!(settings.database.max_connections >= 2, "a job run holds one connection for its lock");
            if pod["metadata"]["name"] == "rel-clientele-api" {
                assert_eq!(settings.server.bind.to_string(), "0.0.0.0:8080");
                assert_eq!(settings.retention.in_process, worker.is_none());
            }
        }
    }
    let production = render(PRODUCTION);
    let api = container(&production.get("Deployment", "rel-clientele-api")["spec"]["template"]["spec"]);
    let settings = settings_in(&production, api);
    assert_eq!(settings.server.public_url, "https://crm.example.com");
    assert_eq!(settings.database.max_connections, 20);
    assert_eq!(settings.retention.interval_minutes, 30);
    assert!(settings.server.trust_forwarded_for);
}

#[test]
fn the_image_matches_the_chart_and_the_tested_binary() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = dockerfile.lines().map(str::trim).collect();
    let has = |line: &str| lines.iter().any(|l| l.starts_with(line));
    // The release profile of Cargo.toml with the locked dependencies, as the benchmarks build it.
    assert!(dockerfile.contains("cargo build --release --locked --bin clientele"));
    assert!(has("FROM debian:bookworm-slim"));
    assert!(has("USER 10001:10001"));
    assert!(has("EXPOSE 8080"));
    assert!(has("ENTRYPOINT [\"clientele\"]"));
    assert!(has("CMD [\"serve\"]"));
    assert!(dockerfile.contains("CLIENTELE_SERVER__BIND=0.0.0.0:8080"));
    assert!(dockerfile.contains("CLIENTELE_DATA_DIR=/var/lib/clientele"));
    let rendered = render(DEFAULTS);
    let pod = &rendered.get("Deployment", "rel-clientele-api")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"], 10001);
    assert_eq!(pod["securityContext"]["runAsGroup"], 10001);
    assert_eq!(container(pod)["ports"][0]["containerPort"], 8080);
    // The build context keeps every workspace member.
    let ignored = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members = manifest.lines().find_map(|l| l.strip_prefix("members = ")).unwrap();
    for member in members.trim_matches(['[', ']']).split(',').map(|m| m.trim().trim_matches('"')) {
        let top = member.split('/').next().unwrap();
        assert!(
            !ignored.lines().any(|l| l.trim() == top || l.trim() == member),
            "{member} is left out of the image build"
        );
    }
}
