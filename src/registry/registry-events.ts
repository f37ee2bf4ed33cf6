/** Event names the registry emits after a committed change (listeners: snapshot store, health scheduler). */
export const REGISTRY_CHANGED = 'registry.changed';

export interface RegistryChangedEvent {
  readonly kind: 'zone' | 'record' | 'region' | 'service' | 'import';
  readonly name: string;
}
