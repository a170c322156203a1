{{/*
Names, labels and checks shared by the templates.
*/}}

{{- define "kubeairunway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name: the release name, or <release>-kubeairunway. */}}
{{- define "kubeairunway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kubeairunway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "kubeairunway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubeairunway
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component (server or controller): never change across upgrades. */}}
{{- define "kubeairunway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubeairunway.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kubeairunway.componentLabels" -}}
{{ include "kubeairunway.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kubeairunway.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "kubeairunway.serverServiceAccount" -}}
{{- default (printf "%s-server" (include "kubeairunway.fullname" .)) .Values.server.serviceAccount.name -}}
{{- end -}}

{{- define "kubeairunway.controllerServiceAccount" -}}
{{- default (printf "%s-controller" (include "kubeairunway.fullname" .)) .Values.controller.serviceAccount.name -}}
{{- end -}}

{{/*
Checks across values that a schema cannot phrase helpfully. Included by validate.yaml, so they
run for helm install, upgrade, template and lint.
*/}}
{{- define "kubeairunway.validate" -}}
{{- if ne .Release.Namespace "kubeairunway-system" -}}
{{- fail (printf "install KubeAIRunway into the namespace kubeairunway-system (got %q): the API server reads its settings ConfigMap there by contract. Use: helm install %s <chart> -n kubeairunway-system --create-namespace" .Release.Namespace .Release.Name) -}}
{{- end -}}
{{- if and .Values.server.enabled (not .Values.server.auth.enabled) (empty (compact .Values.server.allowedHosts)) -}}
{{- fail "server.auth.enabled=false needs server.allowedHosts: without authentication the server acts with its own Kubernetes identity for every visitor, and only answers the host names you name (it refuses to listen beyond loopback otherwise)" -}}
{{- end -}}
{{- if and .Values.controller.enabled (gt (int .Values.controller.replicas) 1) (not .Values.controller.leaderElection.enabled) -}}
{{- fail "controller.replicas > 1 needs controller.leaderElection.enabled: replicas without a leader would all write the same objects" -}}
{{- end -}}
{{- range .Values.controller.providers -}}
{{- if not (has . (list "kaito" "dynamo" "kuberay" "kubernetes")) -}}
{{- fail (printf "controller.providers: unknown provider %q (known: kaito, dynamo, kuberay, kubernetes)" .) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.controller.metrics.serviceMonitor.enabled (not .Values.controller.metrics.service.enabled) -}}
{{- fail "controller.metrics.serviceMonitor.enabled needs controller.metrics.service.enabled: the ServiceMonitor selects that Service" -}}
{{- end -}}
{{- end -}}
