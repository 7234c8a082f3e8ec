/* Records as JSON lines, shared by the stdout and file outputs:
 *   {"timestamp":<ms>,"tag":"...","message":"...",<metadata>,<fields>}
 *   {"timestamp":<ms>,"tag":"...","metric":"...","value":1.5,"unit":"...",
 *    "dimensions":{...},<metadata>}
 * Invalid UTF-8 is replaced by U+FFFD, so every line is valid JSON. */
#ifndef COLLECTOR_JSONL_H
#define COLLECTOR_JSONL_H

#include "collector/core/util.h"
#include "collector/pipeline/batch.h"

/* Append one line per record of b (each ending in '\n'). */
void jsonl_append_batch(struct buf *out, const struct batch *b);

#endif
