"""The rule table of :mod:`sopflow.definitions.extensions`, as text: one row per group.

Kept apart so the judging code stays short; the table is parsed there into ``RULES``,
and ``docs_table()`` renders it into docs/other-modelers.md (a test keeps them equal).
"""

from __future__ import annotations

from typing import Final

__all__ = ["TABLE"]

#: Every extension sopflow knows, one row per group: prefixes | kind | names | action |
#: home engines | what sopflow does. A row continues on lines indented by four spaces.
#: The docs table is generated from it (docs_table()); tests check every entry.
TABLE: Final = """
camunda flowable activiti | attribute | assignee candidateUsers candidateGroups | honoured |
    Camunda 7, Flowable | who may claim and complete the task (with the lane's role, when the
    task is in a lane)
camunda flowable activiti | attribute | dueDate | honoured | Camunda 7, Flowable | the step's
    due date when it has no waktu (ISO date or ISO duration, or an expression of the safe
    language evaluated when the step opens); a conflict with waktu is reported
camunda | attribute | followUpDate | honoured | Camunda 7 | the step's follow-up (at-risk)
    date, read like dueDate
camunda flowable activiti | attribute | formKey | honoured | Camunda 7, Flowable | passed to
    the application in the work item (form_key); on the start event as
    ProcessDefinition.start_form_key
camunda | attribute | formRef formRefBinding formRefVersion | honoured | Camunda 7 | Camunda
    Forms reference, passed in the work item like formKey
camunda | element | formData | honoured | Camunda 7 | fields validated on complete (on the
    start event: on start); the work item carries them as a JSON schema
flowable activiti | element | formProperty | honoured | Flowable | form properties validated
    on complete, like camunda:formData
camunda spiffworkflow zeebe | element | properties | honoured | Camunda 7, SpiffArena, Zeebe |
    sopflow's own step and SOP properties (waktu, kelengkapan, ...); SpiffArena's
    formJsonSchemaFilename is passed as the form reference (formUiSchemaFilename only lays it out)
camunda | attribute | historyTimeToLive | no-effect | Camunda 7 | history retention, an
    operations setting: sopflow keeps every record until the application removes it
camunda | attribute | versionTag | no-effect | Camunda 7 | a version label; sopflow versions
    by content
camunda | attribute | isStartableInTasklist | no-effect | Camunda 7 | Tasklist display only
camunda | attribute | modelerTemplate modelerTemplateVersion | no-effect | Camunda Modeler |
    the element template applied in the modeler
camunda | attribute | asyncBefore asyncAfter | honoured | Camunda 7 | asynchronous
    continuations: the action commits before the node starts (after it ends) and a worker
    goes on in a job (docs/workers.md)
flowable activiti | attribute | async asyncBefore asyncAfter | refused | Flowable |
    asynchronous continuations in Flowable's spelling (write camunda:asyncBefore /
    camunda:asyncAfter, or the sopflow property async)
camunda | attribute | async | refused | Camunda 7 | the old spelling of asyncBefore (write
    camunda:asyncBefore)
camunda flowable activiti | attribute | exclusive | no-effect | Camunda 7, Flowable | jobs of
    one instance never run at once: sopflow's instance revision guard serialises them
camunda | attribute | errorMessage | no-effect | Camunda 7 | the error's message text
modeler | attribute | executionPlatform executionPlatformVersion | no-effect | Camunda Modeler
    | which editor the modeler opens
spiffworkflow | element | instructionsForEndUser category signalButtonLabel unitTests |
    no-effect | SpiffArena | text shown to the user; no behaviour
zeebe | element | userTask | no-effect | Zeebe | marks a Camunda user task; no other behaviour
zeebe | attribute | versionTag | no-effect | Zeebe | a version label
camunda | attribute | type topic | honoured | Camunda 7 | on service, send and
    business-rule tasks: camunda:type="external" with a camunda:topic is an external task
    the office's workers fetch (fetch_and_lock); another type is refused
flowable activiti | attribute | type topic | needs-handler | Flowable | the application must
    provide the task's work
camunda | attribute | expression resultVariable | needs-handler | Camunda 7 | the
    application must provide the task's work; on a messageEventDefinition honoured as
    SpiffWorkflow's camunda dialect reads them: the message's payload (safe expression
    language) and the field the catcher keeps it in (docs/events.md)
flowable activiti | attribute | expression resultVariable | needs-handler | Flowable | the
    application must provide the task's work
camunda flowable activiti | attribute | class delegateExpression decisionRef resource |
    needs-handler | Camunda 7, Flowable | the application must provide the task's work
camunda flowable activiti | element | connector field | needs-handler | Camunda 7, Flowable |
    the application must provide the task's work
zeebe | element | taskDefinition taskHeaders script calledDecision | needs-handler | Zeebe | a
    job worker the application must provide
spiffworkflow | element | serviceTaskOperator calledDecisionId | needs-handler | SpiffArena |
    a service the application must provide
camunda flowable activiti | element | taskListener executionListener eventListener | refused |
    Camunda 7, Flowable | listeners run code at task or execution events
camunda | element | in out | honoured | Camunda 7 | on a callActivity: the variables passed
    to the called process and back (source/target, variables="all"); on other elements refused
camunda flowable activiti | element | inputOutput | refused | Camunda 7, Flowable | variable
    mappings change what the process sees
flowable activiti | element | in out | refused | Flowable | call-activity variable mappings
    (write them as camunda:in / camunda:out)
camunda flowable activiti | attribute | candidateStarterGroups candidateStarterUsers | refused
    | Camunda 7, Flowable | who may start the process; give the start check to the
    application's authority
camunda flowable activiti | attribute | initiator | honoured | Camunda 7, Flowable | on the
    start event: the variable that receives the starting actor's id (for
    assignee="${initiator}")
camunda | attribute | collection elementVariable | honoured | Camunda 7 | on
    multiInstanceLoopCharacteristics: the list whose items the instances are for, and the
    variable each instance sees its item in
flowable activiti | attribute | collection elementVariable | refused | Flowable |
    multi-instance collections (write them as camunda:collection / camunda:elementVariable)
camunda flowable activiti | attribute | calledElementBinding calledElementVersion
    calledElementVersionTag calledElementTenantId caseRef variableMappingClass
    variableMappingDelegateExpression | refused | Camunda 7, Flowable | call-activity
    bindings to a version other than the catalog's, and mapping code
camunda flowable activiti | attribute | errorCodeVariable errorMessageVariable
    escalationCodeVariable | refused | Camunda 7, Flowable | error and escalation variables
camunda flowable activiti | attribute | priority jobPriority taskPriority | refused | Camunda
    7, Flowable | job and task priorities order work in the home engine's task list and job
    executor
camunda | element | failedJobRetryTimeCycle | honoured | Camunda 7 | how often a failing
    job is retried and how long apart (R3/PT10M) before it becomes an incident
flowable activiti | element | failedJobRetryTimeCycle | refused | Flowable | retries of failed
    jobs (write camunda:failedJobRetryTimeCycle)
flowable activiti | attribute | skipExpression | refused | Flowable | skips the task when an
    expression holds
spiffworkflow | element | preScript postScript | needs-handler | SpiffArena | code run as
    the task becomes ready / as it completes, before the token leaves: the application's
    handler "<task id>:preScript" / "<task id>:postScript" runs instead (the script text never
    runs), on user, manual, script and plain tasks and call activities (around the called
    instance: before it starts, after its data is mapped back)
spiffworkflow | element | messagePayload | honoured | SpiffArena | on a message throw event
    (or its messageEventDefinition): the payload, a dict or value of the safe expression
    language evaluated on the thrower's data when it throws (docs/events.md); elsewhere
    refused
spiffworkflow | element | messageVariable | honoured | SpiffArena | on a message catch event
    or receive task: the field the catch keeps the payload in (docs/events.md)
spiffworkflow | element | payloadExpression | honoured | SpiffArena | on a bpmn:signal,
    bpmn:error or bpmn:escalation: the payload its throws carry, a dict or value of the
    safe expression language evaluated on the thrower's data when it throws
    (docs/events.md); elsewhere refused
spiffworkflow | element | variableName | honoured | SpiffArena | on a bpmn:signal, bpmn:error
    or bpmn:escalation: the field every catch of it keeps the payload in (None when the
    throw carried none); on a user task: the completion's data are kept whole under this
    field instead of merged (not on a deciding step); elsewhere refused
spiffworkflow | element | processVariableCorrelation taskMetadataValues | refused |
    SpiffArena | correlation by process variables and task metadata are not built
spiffworkflow | attribute | scriptsOnInstances | honoured | SpiffArena | on the loop
    characteristics of a repeated task: "true" runs its pre/post script handlers on each
    instance (with loopCounter and the item); otherwise they run once, before the first
    instance and after the last, as SpiffWorkflow moves them to the loop body
spiffworkflow | attribute | isMatchingCorrelation isOutputSynced allowGuest guestConfirmation
    | refused | SpiffArena | correlation, guest access and data synchronisation
zeebe | element | assignmentDefinition | honoured | Zeebe | who may claim and complete the
    task, like camunda:assignee / candidateGroups / candidateUsers
zeebe | element | taskSchedule | honoured | Zeebe | the step's due and follow-up dates, like
    camunda:dueDate
zeebe | element | formDefinition | honoured | Zeebe | the form reference, passed in the work
    item
zeebe | element | ioMapping executionListeners taskListeners subscription calledElement
    loopCharacteristics priorityDefinition linkedResources adHoc | refused | Zeebe | variable
    mappings, listeners, subscriptions, called elements and loops
"""
