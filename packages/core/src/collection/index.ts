export {
  Collection,
  type CollectionLoadOptions,
  type CollectionProgramOptions,
  type CollectionSpecLike,
} from './collection.ts';
export { CollectionSpec, objectName } from './spec.ts';
export { Variable } from './variable.ts';
