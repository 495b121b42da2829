// Audit phase: sees every call that got past sequential and transform (read-only) and records it.
// Written with definePlugin; the records go to an in-memory log the gateway can read, and the
// sequence number travels back in the result metadata.
import { allow, definePlugin } from '@cpex/sdk';

export interface AuditRecord {
  seq: number;
  request_id: string;
  user: string;
  hook: string;
  tool: string;
}

/** The audit trail of this process (a real deployment would ship it somewhere durable). */
export const auditTrail: AuditRecord[] = [];

export default definePlugin({
  name: 'audit-logger',
  hooks: {
    tool_pre_invoke(payload, context) {
      const user = context.globalContext.user;
      const record: AuditRecord = {
        seq: auditTrail.length + 1,
        request_id: context.globalContext.requestId,
        user: typeof user === 'string' ? user : 'anonymous',
        hook: context.hook,
        tool: String(payload.name),
      };
      auditTrail.push(record);
      return allow({ audit_seq: record.seq });
    },
  },
});
