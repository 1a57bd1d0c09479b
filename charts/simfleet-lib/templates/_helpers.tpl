{{/*
Names and labels shared by every SIMfleet chart. Each template takes the
calling chart's root context (`.`), so `.Chart` is the service chart.
*/}}

{{/* The application name: the chart name unless nameOverride says otherwise. */}}
{{- define "simfleet-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The fully qualified name of the release's objects (at most 63 characters). */}}
{{- define "simfleet-lib.fullname" -}}
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

{{/* chart-version, as the helm.sh/chart label wants it. */}}
{{- define "simfleet-lib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that pick this release's pods of one component (immutable: never add to them). */}}
{{- define "simfleet-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "simfleet-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The component whose objects a template renders: "server" (the serving pods) unless the
context carries another as .component, a map:
  name:         the component, e.g. "rater" (its objects are named <fullname>-<name>);
  env:          NAME: value, inline environment of its containers (e.g. the process's role);
  servicePorts: names of the entries of .Values.ports its Service exposes (empty: all).
A chart renders a component with a copy of its root context plus .component (and .Values
of its own where the component's differ); the chart's root context renders the server.
*/}}
{{- define "simfleet-lib.component" -}}
{{- get (get . "component" | default (dict)) "name" | default "server" }}
{{- end }}

{{/* The name of the component's objects: the full name for the server, <fullname>-<component> otherwise. */}}
{{- define "simfleet-lib.componentFullname" -}}
{{- $component := include "simfleet-lib.component" . }}
{{- if eq $component "server" }}
{{- include "simfleet-lib.fullname" . }}
{{- else }}
{{- printf "%s-%s" (include "simfleet-lib.fullname" .) $component | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Selector labels of one component's pods (its Deployment's, Service's, PDB's, NetworkPolicy's). */}}
{{- define "simfleet-lib.componentSelectorLabels" -}}
{{ include "simfleet-lib.selectorLabels" . }}
app.kubernetes.io/component: {{ include "simfleet-lib.component" . }}
{{- end }}

{{/* Selector labels of the migration Job's pods. */}}
{{- define "simfleet-lib.migrationSelectorLabels" -}}
{{ include "simfleet-lib.selectorLabels" . }}
app.kubernetes.io/component: migration
{{- end }}

{{/* The standard labels every object carries; component "server" unless the context names another. */}}
{{- define "simfleet-lib.labels" -}}
{{ include "simfleet-lib.commonLabels" . }}
app.kubernetes.io/component: {{ include "simfleet-lib.component" . }}
{{- end }}

{{/* The standard labels without the component (for objects that pick the component themselves). */}}
{{- define "simfleet-lib.commonLabels" -}}
helm.sh/chart: {{ include "simfleet-lib.chart" . }}
{{ include "simfleet-lib.selectorLabels" . }}
app.kubernetes.io/version: {{ include "simfleet-lib.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/part-of: simfleet
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "simfleet-lib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "simfleet-lib.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image tag: image.tag, or the chart's appVersion. A "tag@sha256:..." keeps only the tag for labels. */}}
{{- define "simfleet-lib.imageTag" -}}
{{- (default .Chart.AppVersion .Values.image.tag | toString | splitList "@" | first) | replace "+" "_" }}
{{- end }}

{{/* The full image reference. */}}
{{- define "simfleet-lib.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag | toString }}
{{- if .Values.image.registry }}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The name of the ConfigMap holding the plain (non-secret) settings. */}}
{{- define "simfleet-lib.configMapName" -}}
{{- printf "%s-config" (include "simfleet-lib.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The plain settings as environment variables, a map NAME: "value". Keys of
`.Values.settings` are camelCase and become <envPrefix><SNAKE_CASE>
(grpcHost -> IDENTITY_GRPC_HOST); lists become JSON arrays. The NATS URL and the
OTEL_* variables come from their own values.
*/}}
{{/* The largest ticket attachment in bytes: global.attachmentMaxBytes, the umbrella's one value that ticketing's
limit and the gateway's both come from (so they cannot drift); a service chart rendered alone: 10 MiB. */}}
{{- define "simfleet-lib.attachmentMaxBytes" -}}
{{- $global := .Values.global | default dict -}}
{{- int64 (default 10485760 $global.attachmentMaxBytes) -}}
{{- end }}

{{- define "simfleet-lib.configEnv" -}}
{{- $prefix := .Values.envPrefix }}
{{- with .Values.attachmentMaxBytesVariable }}
{{ printf "%s%s" $prefix . }}: {{ include "simfleet-lib.attachmentMaxBytes" $ | quote }}
{{- end }}
{{- range $key, $value := .Values.settings }}
{{- $name := printf "%s%s" $prefix ($key | snakecase | upper) }}
{{- if kindIs "slice" $value }}
{{ $name }}: {{ toJson $value | quote }}
{{- else }}
{{ $name }}: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := .Values.extraEnv }}
{{ $name }}: {{ toString $value | quote }}
{{- end }}
{{- $nats := .Values.nats | default dict }}
{{- if $nats.enabled }}
{{ printf "%sNATS_URL" $prefix }}: {{ required "nats.url is required when nats.enabled" $nats.url | quote }}
{{- end }}
{{- with .Values.otel }}
OTEL_SERVICE_NAME: {{ default (include "simfleet-lib.name" $) .serviceName | quote }}
{{- with .endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- with .tracesSampler }}
OTEL_TRACES_SAMPLER: {{ . | quote }}
{{- end }}
{{- with .tracesSamplerArg }}
OTEL_TRACES_SAMPLER_ARG: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment entries every container gets inline: the pod's own name and
namespace (downward API), the OpenTelemetry resource attributes built from
them, and each secret setting as a secretKeyRef into .Values.existingSecret
(never a value from the chart).
*/}}
{{- define "simfleet-lib.inlineEnv" -}}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- $attributes := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" }}
{{- $otel := .Values.otel | default dict }}
{{- range $key, $value := ($otel.resourceAttributes | default dict) }}
{{- $attributes = append $attributes (printf "%s=%s" $key (toString $value)) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- if .Values.secretEnv }}
{{- $secret := required "existingSecret is required: the name of the Secret holding the keys in secretEnv" .Values.existingSecret }}
{{- $prefix := .Values.envPrefix }}
{{- range $key, $ref := .Values.secretEnv }}
- name: {{ printf "%s%s" $prefix ($key | snakecase | upper) }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $ref.key }}
      {{- if $ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The pod security context of the Pod Security "restricted" profile. */}}
{{- define "simfleet-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The container security context of the Pod Security "restricted" profile. */}}
{{- define "simfleet-lib.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The writable /tmp every container gets (the root file system is read-only). */}}
{{- define "simfleet-lib.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "simfleet-lib.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/*
One NetworkPolicy peer list from the short form the values use:
{cidr} -> an ipBlock; otherwise {podSelector, namespaceSelector} label maps
(an empty podSelector: every pod; no namespaceSelector: the release's namespace).
*/}}
{{- define "simfleet-lib.peers" -}}
{{- $peers := list }}
{{- range . }}
{{- if .cidr }}
{{- $peers = append $peers (dict "ipBlock" (dict "cidr" .cidr)) }}
{{- else }}
{{- $peer := dict "podSelector" (dict "matchLabels" (.podSelector | default dict)) }}
{{- if .namespaceSelector }}
{{- $_ := set $peer "namespaceSelector" (dict "matchLabels" .namespaceSelector) }}
{{- end }}
{{- $peers = append $peers $peer }}
{{- end }}
{{- end }}
{{- toYaml $peers }}
{{- end }}
