"""Definitions: loading, checking and compiling BPMN into :class:`ProcessDefinition`."""
