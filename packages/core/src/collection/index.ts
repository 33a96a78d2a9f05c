export {
  Collection,
  type CollectionLoadOptions,
  type CollectionProgramOptions,
  type CollectionSpecLike,
} from './collection.ts';
export { Variable } from './variable.ts';
