// A problem with what the user asked for (a missing file, a bad iommuLens.* setting): reported as is, never as an
// internal error with a bug-report action. Pure: the settings model throws it too.
export class UserError extends Error {}
