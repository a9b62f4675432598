{{/* Names and labels. */}}
{{- define "clientele.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "clientele.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "clientele.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "clientele.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clientele
{{- end }}

{{/* Selector labels of one component: include with (dict "root" $ "component" "api"). */}}
{{- define "clientele.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clientele.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "clientele.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
clientele.toml from `.Values.config`, a map mirroring the file. Written by hand rather than with
toToml because Helm reads every number as a float and toToml would print 16 as 16.0, which the
server's integer settings refuse. Scalars of a table come before its sub-tables, as TOML wants.
*/}}
{{- define "clientele.tomlValue" -}}
{{- if kindIs "string" . }}{{ toJson . }}
{{- else if kindIs "bool" . }}{{ ternary "true" "false" . }}
{{- else if or (kindIs "float64" .) (kindIs "float32" .) }}{{ if eq (float64 (int64 .)) (float64 .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if kindIs "slice" . }}[{{ range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "clientele.tomlValue" $v }}{{ end }}]
{{- else }}{{ . }}
{{- end }}
{{- end }}

{{- define "clientele.tomlTable" -}}
{{- $table := .table }}
{{- range $key := keys $table | sortAlpha }}
{{- $value := index $table $key }}
{{- if and (not (kindIs "map" $value)) (not (kindIs "invalid" $value)) }}
{{ $key }} = {{ include "clientele.tomlValue" $value }}
{{- end }}
{{- end }}
{{- range $key := keys $table | sortAlpha }}
{{- $value := index $table $key }}
{{- if kindIs "map" $value }}
{{- $path := ternary $key (printf "%s.%s" $.path $key) (eq $.path "") }}
[{{ $path }}]
{{- include "clientele.tomlTable" (dict "table" $value "path" $path) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Where secret files are mounted. */}}
{{- define "clientele.secretsDir" -}}/run/secrets/clientele{{- end }}

{{/* The optional secrets that are set, as a list of (dict "name" "files" "secret"). */}}
{{- define "clientele.optionalSecrets" -}}
{{- $list := list }}
{{- range $name := list "smtp" "s3" "meilisearch" "oidc" "signingKeys" }}
{{- $s := index $.Values.secrets $name }}
{{- if and $s $s.existingSecret $s.files }}
{{- $list = append $list (dict "name" ($name | kebabcase) "secret" $s.existingSecret "files" $s.files) }}
{{- end }}
{{- end }}
{{- toJson $list }}
{{- end }}

{{/* CLIENTELE_<SECTION>__<KEY>_FILE for a dotted configuration key. */}}
{{- define "clientele.fileEnvName" -}}
{{- printf "CLIENTELE_%s_FILE" (. | replace "." "__" | upper) }}
{{- end }}

{{/*
Environment shared by the api and the worker: configuration file, data directory, JSON logs, the
app database URL and the optional secrets, all secrets as files.
*/}}
{{- define "clientele.env" -}}
- name: CLIENTELE_CONFIG
  value: /etc/clientele/clientele.toml
- name: CLIENTELE_DATA_DIR
  value: /var/lib/clientele
- name: CLIENTELE_LOG__FORMAT
  value: json
- name: CLIENTELE_DATABASE__MIGRATE_ON_START
  value: {{ (not .Values.migrations.enabled) | toString | quote }}
- name: CLIENTELE_DATABASE__URL_FILE
  value: {{ include "clientele.secretsDir" . }}/database/url
{{- range $s := include "clientele.optionalSecrets" . | fromJsonArray }}
{{- range $configKey, $secretKey := $s.files }}
- name: {{ include "clientele.fileEnvName" $configKey }}
  value: {{ include "clientele.secretsDir" $ }}/{{ $s.name }}/{{ $secretKey }}
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes shared by the api and the worker (mounts: clientele.volumeMounts). */}}
{{- define "clientele.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
- name: data
  emptyDir:
    sizeLimit: {{ .Values.dataSizeLimit }}
- name: config
  configMap:
    name: {{ include "clientele.fullname" . }}
- name: secret-database
  secret:
    secretName: {{ .Values.secrets.database.existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .Values.secrets.database.urlKey }}
        path: url
{{- range $s := include "clientele.optionalSecrets" . | fromJsonArray }}
- name: secret-{{ $s.name }}
  secret:
    secretName: {{ $s.secret }}
    defaultMode: 0440
    items:
      {{- range $_, $secretKey := $s.files }}
      - key: {{ $secretKey }}
        path: {{ $secretKey }}
      {{- end }}
{{- end }}
{{- end }}

{{- define "clientele.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/clientele
- name: config
  mountPath: /etc/clientele
  readOnly: true
- name: secret-database
  mountPath: {{ include "clientele.secretsDir" . }}/database
  readOnly: true
{{- range $s := include "clientele.optionalSecrets" . | fromJsonArray }}
- name: secret-{{ $s.name }}
  mountPath: {{ include "clientele.secretsDir" $ }}/{{ $s.name }}
  readOnly: true
{{- end }}
{{- end }}
