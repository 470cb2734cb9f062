/**
 * The SQLSTATE codes the code reacts to, by PostgreSQL's condition names (Appendix A of its
 * manual): one place to read them, instead of bare five-character literals where they are used.
 */
export const SQLSTATE = {
  uniqueViolation: '23505',
  exclusionViolation: '23P01',
  dependentObjectsStillExist: '2BP01',
  insufficientPrivilege: '42501',
  lockNotAvailable: '55P03',
  undefinedFunction: '42883',
  invalidSchemaName: '3F000',
} as const;
