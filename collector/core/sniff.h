/* Recognise a configuration written for another agent, pasted into conf.d:
 * one clear message and the import command instead of an error per line.
 * Pure: looks at the text only. */
#ifndef COLLECTOR_SNIFF_H
#define COLLECTOR_SNIFF_H

enum sniff_format {
    SNIFF_OURS = 0,          /* (or unrecognisable: parsed as ours) */
    SNIFF_AWSLOGS,           /* awslogs.conf: [general] state_file, log_group_name, file */
    SNIFF_CWAGENT_JSON,      /* the CloudWatch agent's JSON ("logs"/"metrics"/"agent") */
    SNIFF_JSON,              /* other JSON */
    SNIFF_FLUENTBIT,         /* Fluent Bit classic: [SERVICE]/[INPUT]/[OUTPUT], Name key */
    SNIFF_YAML,              /* YAML (Fluent Bit's YAML, a Vector or OTel config...) */
};

enum sniff_format sniff_format(const char *text);

/* A one-line description ("an awslogs configuration") and what to do about
 * it (the import command, or docs/migrating.md), for format != SNIFF_OURS. */
const char *sniff_format_name(enum sniff_format f);
const char *sniff_format_advice(enum sniff_format f);

#endif
