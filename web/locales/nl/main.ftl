# Paraaf, the signers' web app: Dutch (the default).
app-name = Paraaf
skip = Naar de inhoud
nav-label = Hoofdmenu
nav-inbox = Te tekenen
nav-documents = Documenten
nav-absences = Mijn afwezigheden
logout = Afmelden
signed-in-as = Aangemeld als { $name }
lang-other = English
lang-other-code = en

login-title = Aanmelden
login-person = Persoon
login-submit = Aanmelden
login-oidc = Aanmelden met uw stadsaccount
login-dev-note = Ontwikkelaanmelding: kies een persoon uit het organogram. Alleen voor de voorbeelden, nooit in productie.
login-expired = Uw sessie is verlopen. Meld u opnieuw aan.
login-bye = U bent afgemeld.
login-failed = Aanmelden is mislukt: { $reason }
login-unknown = uw account hoort bij niemand in het organogram
login-provider = de aanmelding bij de stad is niet gelukt; probeer opnieuw
login-none = Er is geen manier om aan te melden ingesteld.

inbox-title = Te tekenen
inbox-empty = Er wacht niets op u.
inbox-count = { $count ->
    [one] 1 taak
   *[other] { $count } taken
}
filters = Filters
col-select = Selecteren
col-title = Titel
col-kind = Soort
col-role = Als
col-due = Uiterlijk
col-status = Status
col-submitted = Ingediend
on-behalf = voor { $name }
filter-kind = Soort
filter-unit = Dienst
filter-due = Termijn
filter-q = Zoeken
filter-all = Alle
due-overdue = Te laat
due-week = Binnen 7 dagen
filter-apply = Filteren
select-doc = { $title } selecteren
select-all = Alles selecteren
bulk-sign = Geselecteerde ondertekenen
page-prev = Vorige
page-next = Volgende
page-of = Pagina { $page } van { $pages }
paging = Paginering

doc-fields = Gegevens
doc-content = Inhoud
doc-content-frame = Inhoud van { $title }
doc-no-content = De inhoud is niet beschikbaar in Paraaf (SHA-256 { $sha }).
doc-open-content = Inhoud openen in een nieuw venster
doc-sealed-download = Verzegelde PDF downloaden (verificatiecode { $code })
doc-seal-waits = Afgerond; de verzegelde PDF met het zegel van de stad wordt nog gemaakt.
doc-route = Verloop
doc-comments = Opmerkingen
doc-no-comments = Nog geen opmerkingen.
doc-history = Geschiedenis
doc-uploader = Ingediend door
doc-status = Status
doc-actions = Uw taak
step-skipped = niet nodig
task-open = wacht op { $names }
task-signed = ondertekend door { $by }
task-signed-for = ondertekend door { $by } voor { $for }
task-refused = geweigerd door { $by }
task-cancelled = niet meer nodig
task-asks-you = U tekent als { $role }
task-asks-you-for = U tekent als { $role }, voor { $name }
sign = Ondertekenen
refuse = Weigeren
refuse-reason = Reden van weigering
comment = Opmerking
comment-add = Opmerking toevoegen

confirm-title = Bevestigen
confirm-sign = Wilt u „{ $title }” ondertekenen?
confirm-sign-for = U tekent voor { $name }.
confirm-refuse = Wilt u „{ $title }” weigeren?
confirm-reason = Reden: { $reason }
confirm-comment = Deze opmerking toevoegen aan „{ $title }”?
confirm-bulk = Wilt u deze { $count } documenten ondertekenen?
confirm-absence = Afwezigheid van { $from } tot en met { $to } toevoegen?
confirm-withdraw = Uw afwezigheid van { $from } tot en met { $to } intrekken?
confirm = Bevestigen
cancel = Annuleren

done-signed = Ondertekend: { $title }
done-refused = Geweigerd: { $title }
done-comment = Uw opmerking is toegevoegd.
done-bulk = { $count ->
    [one] 1 document ondertekend.
   *[other] { $count } documenten ondertekend.
}
done-absence = Uw afwezigheid is opgeslagen.
done-withdrawn = Uw afwezigheid is ingetrokken.
bulk-none = Selecteer eerst de documenten die u wilt ondertekenen.
bulk-failed = Niet ondertekend: { $title } ({ $reason })

absences-title = Mijn afwezigheden
absences-none = U hebt geen afwezigheden ingegeven.
absence-from = Van
absence-to = Tot en met
absence-add = Afwezigheid toevoegen
absence-withdraw = Intrekken
absence-period = { $from } tot en met { $to }
takes-over-title = Wie neemt over
takes-over = Als { $role }: { $names }
takes-over-nobody = Als { $role }: niemand (er is geen vervanger beschikbaar)
takes-over-none = Voor uw functies is geen vervanger vastgelegd: uw taken blijven op u wachten.

documents-title = Documenten
documents-mine = Door mij ingediend
documents-visible = Die ik mag zien
documents-empty = Geen documenten.

documents-count = { $count ->
    [one] 1 document
   *[other] { $count } documenten
}

status-in_progress = In behandeling
status-completed = Afgerond
status-returned = Teruggestuurd
status-stopped = Stopgezet

error-title = Er ging iets mis
error-400 = Het verzoek is niet geldig: { $detail }
error-403 = U mag dit niet doen: { $detail }
error-404 = Dit document bestaat niet, of u mag het niet zien.
error-409 = Dat kan nu niet meer: { $detail }
error-csrf = Het formulier is verlopen of kwam niet van deze pagina. Open de pagina opnieuw en probeer nog eens.
error-500 = Er is niets opgeslagen: { $detail }. Probeer het later opnieuw.
no-task = U hebt geen open taak op dit document.
reason-missing = Geef een reden op.
text-missing = Schrijf eerst een opmerking.
dates-invalid = Geef twee geldige data op (JJJJ-MM-DD).
error-content-tampered = De inhoud in de databank is niet meer die van het ingediende document (SHA-256 { $sha }). Er wordt niets getoond; meld dit aan de beheerder.
dates-order = De afwezigheid eindigt voor ze begint.
bulk-too-many = Onderteken hoogstens { $max } documenten tegelijk.
error-host = Deze pagina hoort niet bij dit adres. Open Paraaf via het adres dat de stad u gaf.
note-too-long = De tekst is langer dan { $max } tekens.
note-characters = De tekst bevat tekens die niet zijn toegelaten (stuurtekens, tekens die de leesrichting omkeren, of alleen onzichtbare tekens).
dates-range = Geef data tussen 2000 en 2100, en een afwezigheid van hoogstens twee jaar.
back-inbox = Terug naar te tekenen

ev-submitted = Ingediend door { $by }
ev-step = Stap { $name } geopend: gevraagd aan { $names }
ev-skipped = Stap { $name } overgeslagen (niet nodig)
ev-signed = Ondertekend door { $by }
ev-signed-for = Ondertekend door { $by } voor { $for }
ev-refused = Geweigerd door { $by }: { $reason }
ev-commented = Opmerking van { $by }
ev-reassigned = Toegewezen aan { $names } ({ $reason })
ev-moved = Verplaatst naar { $names } ({ $reason })
ev-escalated = Geëscaleerd naar { $names }
ev-escalation-waits = Escalatie wacht: { $reason }
ev-reminded = Herinnering verstuurd
ev-cancelled = Andere taken van de stap zijn niet meer nodig
ev-completed = Afgerond
ev-returned = Teruggestuurd naar de indiener
ev-stopped = Stopgezet
ev-shield = Afscherming: { $reason }
reason-absence = afwezigheid
reason-absence-withdrawn = afwezigheid ingetrokken
ev-handed-over = Overgedragen van { $from } aan { $to } ({ $fields })
ev-sealed = Verzegeld met het elektronisch zegel van de stad (verificatiecode { $code })
ev-invoice-imported = Factuur ingelezen
ev-invoice-decided = { $by } besliste dat dit document de factuur is: { $reason }
ev-other = Wijziging aan het document

error-404-page-title = Pagina niet gevonden
error-404-page = Pagina niet gevonden: deze pagina bestaat niet in Paraaf. Kijk het adres na, of ga naar uw taken.
problem-forbidden = u hebt geen open taak (meer) op dit document; misschien handelde iemand het intussen af
problem-conflict = het document is intussen afgerond, teruggestuurd of stopgezet
problem-invalid = de gegevens werden geweigerd
problem-not_found = het document bestaat niet, of u mag het niet zien
problem-storage = er kon niets worden opgeslagen
problem-tampered = het logboek klopt niet meer met zijn ondertekende controlepunten; meld dit aan de beheerder
problem-other = onbekende fout

## My settings (/app/settings): how I am told by e-mail.
nav-settings = Instellingen
settings-title = Instellingen
settings-mail = Berichten per e-mail over nieuwe taken, herinneringen en teruggestuurde documenten
settings-digest = Eén overzicht per dag
settings-immediate = Meteen, een e-mail per gebeurtenis
settings-nothing = Geen e-mail
settings-escalations = Een taak die naar u geëscaleerd wordt, meldt Paraaf altijd meteen, behalve als u "Geen e-mail" kiest.
settings-save = Bewaren
settings-confirm = Wilt u voortaan dit kiezen: { $choice }?
settings-done = Uw keuze is bewaard.
settings-invalid = Kies een van de mogelijkheden.
reason-moved-queue = toegewezen vanuit de manuele wachtrij
reason-moved-organogram = na een wijziging van het organogram
reason-escalation-unreached = niemand heeft nu de rol om naar te escaleren; de taak blijft en escaleert zodra iemand die rol heeft
reason-shield = buiten de afgeschermde groep gehouden
doc-history-withheld = De geschiedenis wordt niet getoond: het logboek klopt niet meer met wat de server zelf vastlegde en ondertekende. Meld dit aan de beheerder.
