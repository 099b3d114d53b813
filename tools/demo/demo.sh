#!/usr/bin/env bash
# A scripted netwerkberaad, end to end, on a temporary kringd: seven people, each with their own
# `kring` profile (their own encrypted store), from the referral to the six-week check.
# Run by `make demo` (which builds first) and by ctest (label demo). Everything lives in a temp
# directory that is removed at the end, also when a step fails.
#   KRING=path/to/kring KRINGD=path/to/kringd tools/demo/demo.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KRING="${KRING:-$ROOT/build/tools/kring/kring}"
KRINGD="${KRINGD:-$ROOT/build/server/kringd}"
for bin in "$KRING" "$KRINGD"; do
  [ -x "$bin" ] || { echo "demo: $bin is not built (run make demo)" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kring-demo.XXXXXX")"
KRINGD_PID=""
cleanup() {
  if [ -n "$KRINGD_PID" ]; then kill "$KRINGD_PID" 2>/dev/null || true; wait "$KRINGD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

export KRING_HOME="$WORK/profiles"
export KRING_LANG="${KRING_LANG:-nl}"
unset KRING_DB KRING_PROFILE KRING_CASE KRING_SERVER

# Narration: bold on a terminal, plain in logs.
if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
say() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }

start_server() {
  rm -f "$WORK/port"
  # The demo signs in several devices from 127.0.0.1 in a few seconds: no per-address limit
  # (docs/operations.md, "Limit of calls without a session").
  "$KRINGD" --listen 127.0.0.1:0 --port-file "$WORK/port" --data-dir "$WORK/server" \
    --log-level error --unauthenticated-rate 0 >"$WORK/kringd.log" 2>&1 &
  KRINGD_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$WORK/port" ] && break
    sleep 0.1
  done
  [ -s "$WORK/port" ] || { echo "demo: kringd did not start" >&2; cat "$WORK/kringd.log" >&2; exit 1; }
  SERVER="127.0.0.1:$(cat "$WORK/port")"
}

# k PROFILE ARGS...: run kring as that person (their passphrase, their store).
k() {
  local who="$1"
  shift
  KRING_PASSPHRASE="wachtwoord van $who" "$KRING" --server "$SERVER" --profile "$who" "$@"
}
# The 32-hex id after LABEL in the input ("account 0a1b...").
id_after() { grep -o "$1 [0-9a-f]\{32\}" | head -1 | awk '{print $NF}'; }

say "Kring start een eigen server voor deze demo (tijdelijk, alles wordt na afloop gewist)."
start_server
echo "server op $SERVER"

say "Zeven mensen maken elk een account op hun eigen apparaat (een eigen profiel)."
declare -A ACC
for who in sanne fatima ria kees karim joke mo; do
  ACC[$who]="$(k "$who" account create 2>/dev/null | id_after account)"
  echo "  $who: account ${ACC[$who]:0:8}..."
done

say "Sanne (de bewoner) start de kring. Fatima is de gespreksleider."
CASE="$(k sanne case create --history "${ACC[fatima]}:coordinator" "${ACC[ria]}" "${ACC[kees]}" \
  "${ACC[karim]}" "${ACC[joke]}" "${ACC[mo]}" | id_after 'gemaakt:')"
[ -n "$CASE" ] || CASE="$(k sanne case list | head -1)"
export KRING_CASE="$CASE"
for who in fatima ria kees karim joke mo; do k "$who" sync >/dev/null; done
echo "  casus ${CASE:0:8}..."

say "Fatima zet Joke van het wijkteam in de kring, als professional. Dan mag Joke aanmelden."
k fatima circle propose --name "Joke Bakker" --kind professional --relation "wijkteam" \
  --organisation "Wijkteam Noord" --function "ambulant hulpverlener" --account "${ACC[joke]}" >/dev/null
k fatima circle approve "Joke Bakker" >/dev/null
k joke sync >/dev/null

say "Stap 0: Joke van het wijkteam meldt het netwerkberaad aan, met toestemming van Sanne."
cat >"$WORK/aanmelding.json" <<'JSON'
{
  "referrer_kind": "professional",
  "resident": {"name": "Sanne de Vries", "has_app": true},
  "reason": "Sanne wil weer grip op haar geld en de zorg voor Tim.",
  "resident_consent": true,
  "ik_wil": "Ik wil rust in huis.",
  "ik_kan": "Ik kan goed koken.",
  "ik_heb_nodig": "Ik heb hulp nodig met de post en met geld.",
  "bottom_lines": ["Tim gaat elke dag naar school."],
  "invitees": [
    {"name": "Tante Ria", "kind": "family", "relation": "tante", "phone": "06-12345678", "has_app": true},
    {"name": "Oom Kees", "kind": "family", "relation": "oom", "phone": "06-23456789", "has_app": true},
    {"name": "Buurman Karim", "kind": "neighbour", "relation": "buurman", "email": "karim@example.nl", "has_app": true},
    {"name": "Coach Mo", "kind": "mentor", "relation": "trainer van Tim", "email": "mo@example.nl", "has_app": true},
    {"name": "Oma Truus", "kind": "family", "relation": "oma", "phone": "030-1234567"},
    {"name": "Tim de Vries", "kind": "child", "relation": "zoon", "phone": "06-11112222"}
  ]
}
JSON
k joke referral submit --file "$WORK/aanmelding.json"

say "Stap 1 en 2: Fatima wordt gespreksleider en laat iedereen toe in de kring."
k fatima sync >/dev/null
k fatima referral coordinator me --language nl >/dev/null
k fatima circle propose --name "Fatima El Idrissi" --kind coordinator --relation gespreksleider \
  --account "${ACC[fatima]}" >/dev/null
for p in "Sanne de Vries" "Tante Ria" "Oom Kees" "Buurman Karim" "Coach Mo" "Oma Truus" \
  "Tim de Vries" "Joke Bakker" "Fatima El Idrissi"; do
  k fatima circle approve "$p" >/dev/null
done
k fatima circle link "Sanne de Vries" "${ACC[sanne]}" >/dev/null
k fatima circle link "Tante Ria" "${ACC[ria]}" >/dev/null
k fatima circle link "Oom Kees" "${ACC[kees]}" >/dev/null
k fatima circle link "Buurman Karim" "${ACC[karim]}" >/dev/null
k fatima circle link "Coach Mo" "${ACC[mo]}" >/dev/null
echo "Oma Truus heeft geen app; Fatima belde haar en legt vast dat ze komt:"
k fatima invitation record "Oma Truus" accepted
k fatima invitation record "Tim de Vries" accepted >/dev/null
k fatima circle list

say "Fatima voert voorgesprekken. Een zorg over veiligheid ziet alleen zij."
for p in "Sanne de Vries" "Tante Ria" "Oom Kees" "Buurman Karim" "Coach Mo" "Oma Truus" \
  "Tim de Vries" "Joke Bakker"; do
  k fatima pretalk log "$p" --how home --explained "Wat een netwerkberaad is." >/dev/null
done
k fatima pretalk log "Tante Ria" --how phone --safety "Spanning met de ex-partner." >/dev/null
k fatima pretalk list

say "Stap 3: Fatima maakt een prikker voor de datum. Sanne en Joke moeten er zijn."
k fatima poll create --slot now+7d@19:30 --slot now+8d@19:30 --required "Sanne de Vries" --required "Joke Bakker" \
  --deadline now+3d >/dev/null
for who in sanne ria kees karim joke mo; do k "$who" sync >/dev/null; done
k sanne poll show
k sanne poll answer 1 ja
k sanne poll answer 2 nee >/dev/null
k ria poll answer 1 ja >/dev/null
k joke poll answer 1 als-het-moet >/dev/null
k karim poll answer 1 ja >/dev/null
k mo poll answer 1 ja >/dev/null
k fatima poll answer 1 ja --person "Oma Truus" >/dev/null
echo "Oom Kees zit in de trein zonder bereik. Zijn antwoord wacht op zijn telefoon:"
KRING_PASSPHRASE="wachtwoord van kees" "$KRING" --server 127.0.0.1:1 --profile kees poll answer 1 ja
echo "Later heeft hij weer bereik:"
k kees sync
for who in sanne ria joke karim mo fatima; do k "$who" sync >/dev/null; done
k fatima poll tally

say "Fatima zet het netwerkberaad vast. Het adres is afgeschermd: Oom Kees krijgt alleen de buurt."
k fatima poll fix 1 --coarse "Bij Sanne thuis, Utrecht-Noord" --exact "Kerkstraat 12, Utrecht" \
  --hidden-from "Oom Kees" >/dev/null
for who in sanne ria kees karim joke mo; do k "$who" sync >/dev/null; done
echo "Wat Tante Ria ziet:"
k ria meeting show
echo "Wat Oom Kees ziet:"
k kees meeting show

say "Het netwerkberaad. Eerst informatie, dan de eigen tijd van het netwerk."
k fatima meeting phase information
k sanne sync >/dev/null
k sanne meeting private-time >/dev/null
for who in ria kees karim mo; do k "$who" sync >/dev/null; done
echo "Het netwerk maakt afspraken en schrijft het plan. Fatima en Joke zien het concept niet."
AG_RIA="$(k ria agreement add --owner "Tante Ria" --action "Elke week samen de post openen" \
  --due now+14d --checker "Fatima El Idrissi" --domain finances | id_after afspraak)"
AG_KARIM="$(k karim agreement add --owner "Buurman Karim" --action "Tim naar voetbal brengen" \
  --recurrence "elke zaterdag" --domain daytime | id_after afspraak)"
AG_JOKE="$(k ria agreement add --owner "Joke Bakker" --action "Aanmelden bij schuldhulp" \
  --due now+10d --domain finances | id_after afspraak)"
DRAFT="$(k sanne plan draft --ik-wil "Ik wil rust in huis en grip op mijn geld." \
  --ik-kan "Ik kan goed koken en ik vraag hulp als het nodig is." \
  --ik-heb-nodig "Ik heb hulp nodig met de post en met geld." \
  --domain "finances=Schulden in kaart brengen met het wijkteam." \
  --domain "housing=De huur op tijd betalen." \
  --contact-person "Tante Ria" --bottom-lines "Tim gaat elke dag naar school." \
  --responsible "Joke Bakker" | id_after concept)"
k kees sync >/dev/null
k kees plan update "$DRAFT" --contingency "Als het misgaat, belt Sanne Tante Ria. Die belt Fatima." >/dev/null
echo "Oom Kees vulde aan wat er gebeurt als het misgaat."
k sanne sync >/dev/null
k ria sync >/dev/null
k ria meeting release --yes >/dev/null
# The plan's release ends private time: the meeting goes on with the plan presentation.
k sanne plan release "$DRAFT"
k fatima sync >/dev/null
k fatima meeting phase plan-aannemen >/dev/null

say "Stap 4: Sanne neemt het plan aan; Joke (verantwoordelijk professional) ook, vanwege de voorwaarden."
k sanne sync >/dev/null
k sanne plan accept
k joke sync >/dev/null
k joke plan decide --decision conditions --text "Elke maand contact met het wijkteam."
k ria agreement accept "$AG_RIA" >/dev/null
k karim sync >/dev/null
k karim agreement accept "$AG_KARIM" >/dev/null
k joke agreement accept "$AG_JOKE" >/dev/null
for who in sanne ria kees karim joke mo fatima; do k "$who" sync >/dev/null; done
echo "Het plan, zoals Sanne het ziet:"
k sanne plan show
echo "Joke ziet alleen de samenvatting en haar eigen afspraak:"
k joke agreement mine

say "Coach Mo wordt mentor van Tim (JIM), met toestemming van Sanne."
k fatima mentor designate --young "Tim de Vries" --mentor "Coach Mo" --consent \
  --consent-by "Sanne de Vries" >/dev/null
k fatima mentor show

say "Stap 5 en 6: na 4 weken belt Fatima; na 6 weken de zes-wekencheck."
k ria agreement status "$AG_RIA" done >/dev/null
k karim agreement status "$AG_KARIM" partly >/dev/null
for who in ria karim fatima; do k "$who" sync >/dev/null; done
k fatima check in --at now+28d --note "Het gaat goed." >/dev/null
k fatima check six-week --at now+43d --assess "$AG_JOKE=done" --outcome continue >/dev/null
k fatima micro wellbeing intake 4 >/dev/null
k fatima micro wellbeing review 7 --at now+43d >/dev/null
k fatima micro cost intake --service Schuldhulp --euros 450 >/dev/null
k fatima micro cost review --service Schuldhulp --euros 200 >/dev/null
k fatima sync >/dev/null
echo "De zes-wekencheck:"
k fatima check show
k fatima micro show

say "Buurman Karim verhuist. Sanne haalt hem uit de kring; nieuwe dingen kan hij niet meer lezen."
k sanne member remove "$CASE" "${ACC[karim]}"
k sanne agreement add --owner "Tante Ria" --action "Nieuwe oppas zoeken voor zaterdag" --due now+7d >/dev/null
k karim sync || true
if k karim --json agreement list | grep -q "Nieuwe oppas"; then
  echo "demo: Karim ziet iets van na zijn vertrek" >&2
  exit 1
fi
echo "Karim ziet de nieuwe afspraak niet."

say "Het agenda-bestand voor Tante Ria (met adres) en het plan op papier voor Oma Truus."
for who in sanne ria kees fatima; do k "$who" sync >/dev/null; done
k ria export ics
k fatima export ics --person "Oom Kees" --out "$WORK/kees.ics" 2>/dev/null
if grep -q "Kerkstraat" "$WORK/kees.ics"; then
  echo "demo: het afgeschermde adres staat in de agenda van Oom Kees" >&2
  exit 1
fi
echo "In de agenda van Oom Kees staat alleen: $(grep '^LOCATION' "$WORK/kees.ics" | tr -d '\r')"
k fatima export printout --person "Oma Truus" --out "$WORK/oma.html"
echo "($(wc -c <"$WORK/oma.html") bytes HTML, klaar om te printen)"

say "Stap 9: het plan loopt. Fatima sluit de casus; na 30 dagen wist de server alles."
k fatima case close --retention-days 30

say "Klaar. De demo-server stopt en alle demo-gegevens worden gewist."
