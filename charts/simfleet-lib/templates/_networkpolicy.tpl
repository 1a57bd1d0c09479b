{{/*
NetworkPolicies: a default deny of all ingress and egress for every pod of the
release's chart, then what the serving pods need (simfleet-lib.componentNetworkPolicy:
DNS, NATS, the database, the OTLP collector, the metrics scrape, the callers in
.Values.networkPolicy.ingress, the extra destinations in .Values.networkPolicy.egress)
and what the migration Job needs (DNS and the database).
*/}}
{{- define "simfleet-lib.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ printf "%s-default-deny" (include "simfleet-lib.fullname" .) | trunc 63 | trimSuffix "-" }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "simfleet-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "simfleet-lib.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
---
{{ include "simfleet-lib.componentNetworkPolicy" . }}
{{- $migration := .Values.migration | default dict }}
{{- if $migration.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ printf "%s-migration" (include "simfleet-lib.fullname" .) | trunc 63 | trimSuffix "-" }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "simfleet-lib.commonLabels" . | nindent 4 }}
    app.kubernetes.io/component: migration
spec:
  podSelector:
    matchLabels:
      {{- include "simfleet-lib.migrationSelectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  egress:
    {{- include "simfleet-lib.dnsEgress" . | nindent 4 }}
    {{- with include "simfleet-lib.databaseEgress" . | trim }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
What one component's pods may do (the server's unless the context names another): callers in
.Values.networkPolicy.ingress and the metrics scrape in; DNS, NATS, the database, the OTLP
collector and .Values.networkPolicy.egress out. Its own policy types deny the rest both ways.
*/}}
{{- define "simfleet-lib.componentNetworkPolicy" -}}
{{- $np := .Values.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "simfleet-lib.componentFullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "simfleet-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "simfleet-lib.componentSelectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    {{- range $np.ingress }}
    - ports:
        - port: {{ .port }}
          protocol: TCP
      from:
        {{- include "simfleet-lib.peers" .from | nindent 8 }}
    {{- end }}
    - ports:
        - port: {{ .Values.metrics.port }}
          protocol: TCP
      from:
        {{- include "simfleet-lib.peers" (list $np.monitoring) | nindent 8 }}
  egress:
    {{- include "simfleet-lib.dnsEgress" . | nindent 4 }}
    {{- $nats := .Values.nats | default dict }}
    {{- if $nats.enabled }}
    - ports:
        - port: {{ $np.nats.port }}
          protocol: TCP
      to:
        {{- include "simfleet-lib.peers" (list $np.nats) | nindent 8 }}
    {{- end }}
    {{- with include "simfleet-lib.databaseEgress" . | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- $otel := .Values.otel | default dict }}
    {{- if $otel.endpoint }}
    - ports:
        - port: {{ $np.otlp.port }}
          protocol: TCP
      to:
        {{- include "simfleet-lib.peers" (list $np.otlp) | nindent 8 }}
    {{- end }}
    {{- range $np.egress }}
    - ports:
        - port: {{ .port }}
          protocol: TCP
      to:
        {{- include "simfleet-lib.peers" .to | nindent 8 }}
    {{- end }}
{{- end }}

{{/* Egress to the cluster DNS on UDP and TCP 53. */}}
{{- define "simfleet-lib.dnsEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  to:
    {{- include "simfleet-lib.peers" (list .Values.networkPolicy.dns) | nindent 4 }}
{{- end }}

{{/* Egress to the database (a CIDR or a pod/namespace selector), when the service has one. */}}
{{- define "simfleet-lib.databaseEgress" -}}
{{- $db := .Values.networkPolicy.database | default dict }}
{{- if $db.enabled }}
- ports:
    - port: {{ $db.port }}
      protocol: TCP
  to:
    {{- include "simfleet-lib.peers" (list $db) | nindent 4 }}
{{- end }}
{{- end }}
