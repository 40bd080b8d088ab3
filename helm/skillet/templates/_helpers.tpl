{{- define "skillet.fullname" -}}
{{- printf "%s-skillet" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "skillet.labels" -}}
app.kubernetes.io/name: skillet
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "skillet.selector" -}}
app.kubernetes.io/name: skillet
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "skillet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "skillet.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "skillet.trainerNamespace" -}}
{{- default .Release.Namespace .Values.trainer.namespace -}}
{{- end -}}

{{/* The environment every Skillet process (API, worker, migration) shares. */}}
{{- define "skillet.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "skillet.fullname" . }}
  - secretRef:
      name: {{ .Values.existingSecrets.s3.name }}
env:
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef: { name: {{ .Values.existingSecrets.database.name }}, key: {{ .Values.existingSecrets.database.key }} }
  {{- if .Values.existingSecrets.bootstrapApiKey.name }}
  - name: SKILLET_API_KEY
    valueFrom:
      secretKeyRef: { name: {{ .Values.existingSecrets.bootstrapApiKey.name }}, key: {{ .Values.existingSecrets.bootstrapApiKey.key }} }
  {{- end }}
{{- end -}}

{{- define "skillet.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}
