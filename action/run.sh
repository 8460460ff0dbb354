#!/usr/bin/env bash
# The logic of the scimsync GitHub Action (action.yml): run validate, plan, apply or drift,
# write the Markdown report to the job summary, post or update one pull-request comment,
# and set the step outputs.
#
# Inputs come as environment variables (action.yml sets them): SCIMSYNC (the binary),
# INPUT_COMMAND, INPUT_CONFIG, INPUT_PLAN_FILE, INPUT_WORKING_DIRECTORY, INPUT_COMMENT,
# INPUT_ARGS, GITHUB_TOKEN; and those GitHub sets: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
# GITHUB_EVENT_PATH, GITHUB_API_URL, GITHUB_REPOSITORY, RUNNER_TEMP.
#
# The script needs bash and curl only: JSON is read and written by the hidden
# 'scimsync github' helpers. It never traces commands (no set -x) and never prints a
# credential; credentials that GitHub does not know as secrets are masked first.
set -euo pipefail

scimsync=${SCIMSYNC:?the action sets SCIMSYNC to the scimsync it built}
command=${INPUT_COMMAND:-plan}
config=${INPUT_CONFIG:-scimsync.yaml}
plan_file=${INPUT_PLAN_FILE:-scimsync-plan.json}
read -r -a extra <<<"${INPUT_ARGS:-}"

# GitHub masks secrets.* by itself; a credential from elsewhere (a vault step, an
# exchanged token) is masked here before anything runs.
for name in DATABRICKS_TOKEN DATABRICKS_CLIENT_SECRET ARM_CLIENT_SECRET ACTIONS_ID_TOKEN_REQUEST_TOKEN GITHUB_TOKEN; do
	if [[ -n "${!name:-}" ]]; then
		echo "::add-mask::${!name}"
	fi
done

out_dir=$(mktemp -d "${RUNNER_TEMP:-/tmp}/scimsync-${command}.XXXXXX")
md="$out_dir/report.md"
err="$out_dir/stderr.txt"

# run runs scimsync with stderr shown in the job log as it comes (reads and applies print a
# line of progress every few seconds) and kept for the report, and sets status to its exit
# code.
run() {
	status=0
	{ "$scimsync" "$@" 2>&1 1>&3 3>&- | tee "$err" >&2 3>&-; } 3>&1 || status=${PIPESTATUS[0]}
}

# fenced prints a file in a Markdown code block, with a zero-width space breaking up any
# fence in the text.
fenced() {
	local zwsp=$'\xe2\x80\x8b'
	printf '```\n'
	sed "s/\`\`\`/\`$zwsp\`\`/g" "$1"
	printf '```\n'
}

# failed writes the report of a command that failed: its error messages, without the
# annotations (::error ...) that the runner has already shown on the diff and without the
# lines for the log alone (scimsync: ...).
failed() {
	grep -v -e '^::' -e '^scimsync: ' "$err" >"$out_dir/errors.txt" || true
	{
		printf '## scimsync %s failed\n\n' "$command"
		fenced "$out_dir/errors.txt"
	} >"$md"
	summary="scimsync $command failed: $(grep -m1 '^error:' "$out_dir/errors.txt" || tail -n 1 "$out_dir/errors.txt")"
}

# heading returns the first heading of the report, without its ##.
heading() { grep -m1 '^## ' "$md" | sed 's/^## //' || true; }

has_changes=false
summary=""
plan_out=""
snapshot_out=""
case "$command" in
validate)
	run validate -c "$config" "${extra[@]}" >"$out_dir/out.txt"
	cat "$out_dir/out.txt"
	summary="scimsync validate: $(tail -n 1 "$out_dir/out.txt")"
	{
		printf '## %s\n\n' "$summary"
		fenced "$out_dir/out.txt"
	} >"$md"
	;;
plan)
	# A snapshot of the live state (from the last drift run) plans offline: no API call.
	offline=()
	if [[ -n "${INPUT_SNAPSHOT:-}" ]]; then
		if [[ -f "$INPUT_SNAPSHOT" ]]; then
			offline=(--snapshot "$INPUT_SNAPSHOT")
		else
			echo "No snapshot $INPUT_SNAPSHOT: reading the live account."
		fi
	fi
	run plan -c "$config" -o "$plan_file" --detailed-exitcode "${offline[@]}" "${extra[@]}"
	if [[ $status == 0 || $status == 2 ]]; then
		[[ $status == 2 ]] && has_changes=true
		status=0
		# A plan whose review section does not fit in a comment says so in the comment,
		# and the step fails after posting it.
		"$scimsync" show --format markdown "$plan_file" >"$md" || status=$?
		"$scimsync" github outputs --plan "$plan_file" >"$out_dir/counts.txt"
		summary=$(heading)
		plan_out=$plan_file
	else
		failed
	fi
	;;
apply)
	status=0
	if [[ ! -f "$plan_file" ]]; then
		echo "No plan file $plan_file: making a fresh plan, under the removal guards."
		run plan -c "$config" -o "$plan_file"
	fi
	if [[ $status == 0 ]]; then
		# The plan for the log, then apply's JSON result for the outputs' counts.
		"$scimsync" show "$plan_file"
		echo
		run apply -c "$config" "$plan_file" --format json "${extra[@]}" >"$out_dir/apply.json"
		if [[ -s "$out_dir/apply.json" ]]; then
			"$scimsync" github outputs --plan "$plan_file" --apply "$out_dir/apply.json" >"$out_dir/all-counts.txt"
			summary=$(grep -m1 '^summary=' "$out_dir/all-counts.txt" | cut -d= -f2-)
			grep -v '^summary=' "$out_dir/all-counts.txt" >"$out_dir/counts.txt" || true
			echo "$summary"
		fi
	fi
	if [[ $status == 0 ]]; then
		grep -q '^applied=[1-9]' "$out_dir/counts.txt" && has_changes=true
		{
			printf '## scimsync apply: %s\n\n' "$summary"
			"$scimsync" show --format markdown "$plan_file" | sed 's/^## /### /'
		} >"$md"
		plan_out=$plan_file
	else
		failed
	fi
	;;
drift)
	# One read of the live state, kept as a snapshot: the text report for the log and the
	# Markdown one for the summary are both made from it, offline.
	snapshot="$out_dir/live-snapshot.json"
	run export -c "$config" --format snapshot -o "$snapshot"
	if [[ $status == 0 ]]; then
		run drift -c "$config" --snapshot "$snapshot" "${extra[@]}"
	fi
	if [[ $status == 0 || $status == 2 ]]; then
		[[ $status == 2 ]] && has_changes=true
		status=0
		"$scimsync" drift -c "$config" --snapshot "$snapshot" --format markdown "${extra[@]}" >"$md" 2>/dev/null || true
		summary=$(heading)
		snapshot_out=$snapshot
	else
		failed
	fi
	;;
*)
	echo "::error::unknown command '$command': use validate, plan, apply or drift"
	exit 1
	;;
esac

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
	cat "$md" >>"$GITHUB_STEP_SUMMARY"
fi

# api calls the GitHub REST API. The token goes in a header read from a file descriptor,
# never on a command line.
api() {
	local method=$1 url=$2
	shift 2
	curl --silent --show-error --fail-with-body --request "$method" \
		--header @<(printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN") \
		--header 'Accept: application/vnd.github+json' \
		--header 'X-GitHub-Api-Version: 2022-11-28' \
		"$@" "$url"
}

# comment posts the report as the pull request's one scimsync comment of this command and
# config, or updates it: the comment is found by its hidden marker.
comment() {
	local pr=$1 key marker id="" page result
	# The key keeps to characters that cannot end the HTML comment.
	key=$(printf '%s/%s' "${INPUT_WORKING_DIRECTORY:-.}" "$config" | tr -c 'A-Za-z0-9._/-' '_')
	marker="<!-- scimsync:$command:$key -->"
	local repo="$GITHUB_API_URL/repos/${GITHUB_REPOSITORY:?}"
	# Only the token's own comments are ours. GITHUB_TOKEN cannot read /user (403); its
	# comments are github-actions[bot]'s.
	local author
	if ! author=$(api GET "$GITHUB_API_URL/user" 2>/dev/null | "$scimsync" github login 2>/dev/null); then
		author='github-actions[bot]'
	fi
	for ((page = 1; page <= 50; page++)); do
		api GET "$repo/issues/$pr/comments?per_page=100&page=$page" >"$out_dir/comments.json" || return 1
		result=$("$scimsync" github find-comment --marker "$marker" --author "$author" <"$out_dir/comments.json") || return 1
		case "$result" in
		"found "*)
			id=${result#found }
			break
			;;
		more) ;;
		*) break ;;
		esac
	done
	{
		cat "$md"
		if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
			printf '\n<sub>scimsync %s, [workflow run](%s/%s/actions/runs/%s), commit %s</sub>\n' \
				"$command" "${GITHUB_SERVER_URL:-https://github.com}" "$GITHUB_REPOSITORY" "$GITHUB_RUN_ID" "${GITHUB_SHA:-}"
		fi
	} >"$out_dir/comment.md" || return 1
	"$scimsync" github comment-body --marker "$marker" "$out_dir/comment.md" >"$out_dir/body.json" || return 1
	if [[ -n "$id" ]]; then
		api PATCH "$repo/issues/comments/$id" --data-binary "@$out_dir/body.json" >/dev/null || return 1
		echo "Updated the pull-request comment $id."
	else
		api POST "$repo/issues/$pr/comments" --data-binary "@$out_dir/body.json" >/dev/null || return 1
		echo "Posted the report as a pull-request comment."
	fi
}

if [[ "${INPUT_COMMENT:-false}" == true ]]; then
	pr=""
	if [[ -n "${GITHUB_EVENT_PATH:-}" ]]; then
		pr=$("$scimsync" github pr-number "$GITHUB_EVENT_PATH")
	fi
	if [[ -z "$pr" ]]; then
		echo "::notice::not a pull-request event: no comment posted"
	elif [[ -z "${GITHUB_TOKEN:-}" ]]; then
		echo "::warning::no github-token: no comment posted"
	elif ! comment "$pr"; then
		echo "::warning::could not post the pull-request comment (does the token have pull-requests: write?); the report is in the job summary"
	fi
fi

if [[ -n "$plan_out" && "$plan_out" != /* ]]; then
	plan_out="$PWD/$plan_out"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
	{
		echo "has-changes=$has_changes"
		echo "plan-file=$plan_out"
		echo "summary=${summary//$'\n'/ }"
		echo "markdown-file=$md"
		echo "snapshot=${snapshot_out:-}"
		echo "exit-code=$status"
		# The counts: changes and removals of the plan; applied, failed, skipped and
		# not-run of an apply.
		if [[ -f "$out_dir/counts.txt" ]]; then
			cat "$out_dir/counts.txt"
		fi
	} >>"$GITHUB_OUTPUT"
fi
exit "$status"
