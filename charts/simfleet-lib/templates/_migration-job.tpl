{{/*
The database migration as a Helm hook Job: it runs before install and before
every upgrade, with the serving pods' image, security context and secret
environment, and is deleted once it succeeds (or before the next attempt).
Its environment is inline, not from the ConfigMap: hooks run before the
release's ordinary objects exist.
*/}}
{{- define "simfleet-lib.migrationJob" -}}
{{- if .Values.migration.enabled -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-migrate" (include "simfleet-lib.fullname" .) | trunc 63 | trimSuffix "-" }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "simfleet-lib.commonLabels" . | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ .Values.migration.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migration.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "simfleet-lib.commonLabels" . | nindent 8 }}
        app.kubernetes.io/component: migration
    spec:
      restartPolicy: Never
      {{- if .Values.serviceAccount.create }}
      serviceAccountName: default
      {{- else }}
      serviceAccountName: {{ include "simfleet-lib.serviceAccountName" . }}
      {{- end }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- include "simfleet-lib.podSecurityContext" . | nindent 8 }}
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: migrate
          image: {{ include "simfleet-lib.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          command:
            {{- toYaml .Values.migration.command | nindent 12 }}
          env:
            {{- range $name, $value := (include "simfleet-lib.configEnv" . | fromYaml) }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
            {{- include "simfleet-lib.inlineEnv" . | nindent 12 }}
          resources:
            {{- toYaml .Values.migration.resources | nindent 12 }}
          securityContext:
            {{- include "simfleet-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "simfleet-lib.tmpVolumeMount" . | nindent 12 }}
      volumes:
        {{- include "simfleet-lib.tmpVolume" . | nindent 8 }}
{{- end }}
{{- end }}
