# Paraaf, the signers' web app: English.
app-name = Paraaf
skip = Skip to content
nav-label = Main menu
nav-inbox = To sign
nav-documents = Documents
nav-absences = My absences
logout = Sign out
signed-in-as = Signed in as { $name }
lang-other = Nederlands
lang-other-code = nl

login-title = Sign in
login-person = Person
login-submit = Sign in
login-oidc = Sign in with your city account
login-dev-note = Development sign-in: pick a person of the organogram. For the examples only, never in production.
login-expired = Your session has expired. Please sign in again.
login-bye = You have signed out.
login-failed = Sign-in failed: { $reason }
login-unknown = your account belongs to nobody in the organogram
login-provider = signing in with the city did not work; please try again
login-none = No way to sign in has been set up.

inbox-title = To sign
inbox-empty = Nothing is waiting for you.
inbox-count = { $count ->
    [one] 1 task
   *[other] { $count } tasks
}
filters = Filters
col-select = Select
col-title = Title
col-kind = Kind
col-role = As
col-due = Due
col-status = Status
col-submitted = Submitted
on-behalf = for { $name }
filter-kind = Kind
filter-unit = Service
filter-due = Deadline
filter-q = Search
filter-all = All
due-overdue = Overdue
due-week = Within 7 days
filter-apply = Filter
select-doc = Select { $title }
select-all = Select all
bulk-sign = Sign selected
page-prev = Previous
page-next = Next
page-of = Page { $page } of { $pages }
paging = Pages

doc-fields = Details
doc-content = Content
doc-content-frame = Content of { $title }
doc-no-content = The content is not available in Paraaf (SHA-256 { $sha }).
doc-open-content = Open the content in a new window
doc-sealed-download = Download the sealed PDF (verification code { $code })
doc-seal-waits = Completed; the sealed PDF with the city's seal is still being made.
doc-route = Route
doc-comments = Comments
doc-no-comments = No comments yet.
doc-history = History
doc-uploader = Submitted by
doc-status = Status
doc-actions = Your task
step-skipped = not needed
task-open = waiting for { $names }
task-signed = signed by { $by }
task-signed-for = signed by { $by } for { $for }
task-refused = refused by { $by }
task-cancelled = no longer needed
task-asks-you = You sign as { $role }
task-asks-you-for = You sign as { $role }, for { $name }
sign = Sign
refuse = Refuse
refuse-reason = Reason for refusing
comment = Comment
comment-add = Add comment

confirm-title = Confirm
confirm-sign = Sign “{ $title }”?
confirm-sign-for = You sign for { $name }.
confirm-refuse = Refuse “{ $title }”?
confirm-reason = Reason: { $reason }
confirm-comment = Add this comment to “{ $title }”?
confirm-bulk = Sign these { $count } documents?
confirm-absence = Add an absence from { $from } to { $to }?
confirm-withdraw = Withdraw your absence from { $from } to { $to }?
confirm = Confirm
cancel = Cancel

done-signed = Signed: { $title }
done-refused = Refused: { $title }
done-comment = Your comment was added.
done-bulk = { $count ->
    [one] 1 document signed.
   *[other] { $count } documents signed.
}
done-absence = Your absence was saved.
done-withdrawn = Your absence was withdrawn.
bulk-none = First select the documents you want to sign.
bulk-failed = Not signed: { $title } ({ $reason })

absences-title = My absences
absences-none = You have entered no absences.
absence-from = From
absence-to = Up to and including
absence-add = Add absence
absence-withdraw = Withdraw
absence-period = { $from } to { $to }
takes-over-title = Who takes over
takes-over = As { $role }: { $names }
takes-over-nobody = As { $role }: nobody (no substitute is available)
takes-over-none = No substitute is set for your functions: your tasks keep waiting for you.

documents-title = Documents
documents-mine = Submitted by me
documents-visible = That I may see
documents-empty = No documents.

documents-count = { $count ->
    [one] 1 document
   *[other] { $count } documents
}

status-in_progress = In progress
status-completed = Completed
status-returned = Returned
status-stopped = Stopped

error-title = Something went wrong
error-400 = The request is not valid: { $detail }
error-403 = You may not do this: { $detail }
error-404 = This document does not exist, or you may not see it.
error-409 = That is no longer possible: { $detail }
error-csrf = The form has expired or did not come from this page. Open the page again and retry.
error-500 = Nothing was recorded: { $detail }. Please try again later.
no-task = You have no open task on this document.
reason-missing = Please give a reason.
text-missing = Please write a comment first.
dates-invalid = Please give two valid dates (YYYY-MM-DD).
error-content-tampered = The content in the database is no longer that of the submitted document (SHA-256 { $sha }). Nothing is shown; please tell the administrator.
dates-order = The absence ends before it starts.
bulk-too-many = Sign at most { $max } documents at once.
error-host = This page does not belong to this address. Open Paraaf at the address the city gave you.
note-too-long = The text is longer than { $max } characters.
note-characters = The text contains characters that are not allowed (control characters, characters that reverse the reading direction, or only invisible ones).
dates-range = Give dates between 2000 and 2100, and an absence of at most two years.
back-inbox = Back to my tasks

ev-submitted = Submitted by { $by }
ev-step = Step { $name } opened: asked of { $names }
ev-skipped = Step { $name } skipped (not needed)
ev-signed = Signed by { $by }
ev-signed-for = Signed by { $by } for { $for }
ev-refused = Refused by { $by }: { $reason }
ev-commented = Comment by { $by }
ev-reassigned = Assigned to { $names } ({ $reason })
ev-moved = Moved to { $names } ({ $reason })
ev-escalated = Escalated to { $names }
ev-escalation-waits = Escalation waits: { $reason }
ev-reminded = Reminder sent
ev-cancelled = The step's other tasks are no longer needed
ev-completed = Completed
ev-returned = Returned to the uploader
ev-stopped = Stopped
ev-shield = Shielding: { $reason }
reason-absence = absence
reason-absence-withdrawn = absence withdrawn
ev-handed-over = Handed over from { $from } to { $to } ({ $fields })
ev-sealed = Sealed with the city's electronic seal (verification code { $code })
ev-invoice-imported = Invoice imported
ev-invoice-decided = { $by } decided this document is the invoice: { $reason }
ev-other = Change to the document

error-404-page-title = Page not found
error-404-page = Page not found: Paraaf has no page at this address. Check the address, or go to your tasks.
problem-forbidden = you have no open task on this document (any more); someone may have dealt with it meanwhile
problem-conflict = the document was completed, returned or stopped meanwhile
problem-invalid = the data were refused
problem-not_found = the document does not exist, or you may not see it
problem-storage = nothing could be saved
problem-tampered = the log no longer matches its signed checkpoints; tell the administrator
problem-other = unknown error

## My settings (/app/settings): how I am told by e-mail.
nav-settings = Settings
settings-title = Settings
settings-mail = E-mail about new tasks, reminders and returned documents
settings-digest = One digest a day
settings-immediate = At once, one e-mail per event
settings-nothing = No e-mail
settings-escalations = A task escalated to you is always mailed at once, unless you choose "No e-mail".
settings-save = Save
settings-confirm = Do you want to choose this from now on: { $choice }?
settings-done = Your choice is saved.
settings-invalid = Choose one of the options.
reason-moved-queue = assigned from the manual queue
reason-moved-organogram = after a change of the organogram
reason-escalation-unreached = nobody holds the role to escalate to now; the task stays and escalates as soon as someone holds it
reason-shield = kept outside the shielded group
doc-history-withheld = The history is not shown: the log no longer matches what the server itself recorded and signed. Tell the administrator.
