{{/*
billing runs in roles (BILLING_ROLE): "all" in one Deployment or, with rater.enabled, "api" in
the server Deployment (gRPC API, consumers, sweeps) and "rater" (only the rating consumer of the
network's usage) in a Deployment of its own, so API pods never wait behind rating batches.

"billing.roleContext" fills .into (templates return only text) with the context simfleet-lib's
templates render one role with: a copy of the chart's root context (.root) and the component
.role names; the rater's .Values are the chart's with rater's replicas, resources, pod labels,
annotations and disruption budget, no autoscaling and no callers or peers of the server's.
*/}}
{{- define "billing.roleContext" -}}
{{- $root := .root }}
{{- range $key, $value := $root }}
{{- $_ := set $.into $key $value }}
{{- end }}
{{- if eq .role "rater" }}
{{- $rater := $root.Values.rater }}
{{- $values := deepCopy $root.Values }}
{{- $_ := set $values "replicaCount" $rater.replicaCount }}
{{- $_ := set $values "resources" $rater.resources }}
{{- $_ := set $values "podLabels" $rater.podLabels }}
{{- $_ := set $values "podAnnotations" $rater.podAnnotations }}
{{- $_ := set $values "podDisruptionBudget" $rater.podDisruptionBudget }}
{{- $_ := set $values.autoscaling "enabled" false }}
{{- $_ := set $values.networkPolicy "ingress" (list) }}
{{- $_ := set $values.networkPolicy "egress" (list) }}
{{- $_ := set .into "Values" $values }}
{{- $_ := set .into "component" (dict "name" "rater" "env" (dict "BILLING_ROLE" "rater") "servicePorts" (list $root.Values.metrics.portName)) }}
{{- else }}
{{- $_ := set .into "component" (dict "name" "server" "env" (dict "BILLING_ROLE" (ternary "api" "all" $root.Values.rater.enabled))) }}
{{- end }}
{{- end }}
